import Awesomegrad
import AwesomegradDistributed
import Foundation

/// A data-parallel timing, shared by `ddp-fashion-epoch` and `ddp-cnn`: `ranks` ranks (`mpirun`, the
/// given BLAS threads each) against one process at the same global batch, on the same batches.
///
/// The parent `bench` process times the one-process run itself, then starts `mpirun -np <ranks> <this
/// bench> --ddp-worker <name>` (a plain mpirun: the library chooses the transport) and reads rank 0's
/// result; `rounds` such pairs alternate. The JSON line's `median_us` is the ranks' run;
/// `single_process_us` the one process's; `speedup` their ratio. `allreduce_us_per_step` is rank 0's
/// time in `averageGradients` per step during the run (packing, the sum, unpacking, and waiting for
/// the slower rank); `allreduce_isolated_us` the same call after a barrier, so without waiting;
/// `allreduce_bytes_per_step` the fused buffer (the gradients and one holder count per tensor, 4 bytes
/// each), which with 2 ranks each rank both writes and reads once.
///
/// On a shared machine the wall times include waits for a core: Linux's autogroup scheduling gives
/// each session an equal share, so the ranks (one session) get no more CPU than the one process while
/// other sessions are busy, and every step waits for the rank that lost its turn. The line therefore
/// also reports CPU times: `single_process_cpu_us`, `rank_compute_cpu_us` (the slower rank's CPU time
/// outside `averageGradients`), `projected_us` = that + steps × the isolated averaging, and
/// `projected_speedup`, what free cores would show; and `load_average`.
struct DataParallelBenchmark {
  /// The workload's name.
  var name: String
  /// Builds the model from a seeded generator.
  var makeModel: (inout SeededGenerator) -> Module<Float>
  /// The shape of one image as the model takes it (`[1, 28, 28]` for a CNN); nil keeps rows of 784.
  var imageShape: [Int]? = nil
  /// The batch of one optimizer step, over all ranks.
  var globalBatch: Int
  var ranks = 2
  /// Untimed batches first (the same count on both sides).
  var warmUpBatches: Int
  /// Timed global batches; nil times one epoch.
  var timedBatches: Int?
  /// Isolated averagings after the run (their median is reported).
  var isolatedRepetitions: Int
  /// Images in the synthetic data when Fashion-MNIST is not installed.
  var syntheticCount: Int
  /// `epoch`, `150 global batches`: what one timed run covers.
  var stepUnit: String

  /// What one timed run measured.
  struct RunResult {
    var microseconds: Double
    var steps: Int
    var meanLoss: Double
    var allreduceMicrosecondsPerStep = 0.0
    var allreduceBytesPerStep = 0
    var isolatedAllreduceMicroseconds = 0.0
    /// CPU time of the run outside `averageGradients`: the work itself, which waiting for a core
    /// does not inflate. The largest over the ranks.
    var computeCPUMicroseconds = 0.0
  }

  /// Trains `warmUpBatches` batches, then times `timedBatches` (or one epoch). With a context, the
  /// batches are this rank's share of the global batches and the gradients are averaged before each
  /// step.
  func run(_ data: TrainingImages, context: DistributedContext?) throws -> RunResult {
    var generator = SeededGenerator(seed: 0)
    let model = makeModel(&generator)
    let optimizer = Adam(model.parameters, learningRate: 1e-3)
    try context?.broadcastParameters(of: model.parameters)
    func batches() -> [[Int]] {
      let global = MiniBatches(count: data.count, batchSize: globalBatch, shuffle: true, using: &generator)
      return context.map { Array(global.sharded(for: $0)) } ?? Array(global)
    }
    /// The mean loss over every rank's samples.
    var averagingCPU = 0.0
    func train(_ batches: some Sequence<[Int]>) throws -> Double {
      var lossSum = 0.0, seen = 0
      for indices in batches {
        let (rows, labels) = data.batch(indices)
        let x = imageShape.map { rows.reshaped([indices.count] + $0) } ?? rows
        optimizer.zeroGrad()
        let loss = crossEntropy(model(x), labels: labels)
        loss.backward()
        if let context {
          let cpuStart = MPIWorkers.processCPUMicroseconds()
          try context.averageGradients(of: model.parameters)
          averagingCPU += MPIWorkers.processCPUMicroseconds() - cpuStart
        }
        optimizer.step()
        lossSum += Double(loss.item()) * Double(indices.count)
        seen += indices.count
      }
      let totals = try context?.allreduce([lossSum, Double(seen)], .sum) ?? [lossSum, Double(seen)]
      return totals[0] / max(totals[1], 1)
    }
    // The warm-up comes from its own shuffle; the timed batches from the next one, so that a timed run
    // of fewer batches than an epoch still sees fresh samples.
    _ = try train(batches().prefix(warmUpBatches))
    let timed = timedBatches.map { Array(batches().prefix($0)) } ?? batches()
    try context?.barrier()
    let before = context?.statistics ?? CommunicationStatistics()
    var loss = 0.0
    averagingCPU = 0
    let cpuStart = MPIWorkers.processCPUMicroseconds()
    let time = try MPIWorkers.microsecondsThrowing { loss = try train(timed) }
    let computeCPU = MPIWorkers.processCPUMicroseconds() - cpuStart - averagingCPU
    var result = RunResult(microseconds: time, steps: timed.count, meanLoss: loss)
    result.computeCPUMicroseconds = try context?.allreduce([computeCPU], .max)[0] ?? computeCPU
    if let context {
      let after = context.statistics
      result.allreduceMicrosecondsPerStep =
        1e6 * (after.gradientAverageSeconds - before.gradientAverageSeconds) / Double(timed.count)
      result.allreduceBytesPerStep = (after.allreduceBytes - before.allreduceBytes) / timed.count
      var isolated: [Double] = []
      for _ in 0..<isolatedRepetitions {
        try context.barrier()
        isolated.append(
          try MPIWorkers.microsecondsThrowing { try context.averageGradients(of: model.parameters) })
      }
      result.isolatedAllreduceMicroseconds = median(isolated)
    }
    return result
  }

  /// Under mpirun: every rank trains; rank 0 prints one JSON object with its measurements.
  func runWorker() throws {
    let context = try Distributed.initialize(timeout: .seconds(600))
    do {
      let data = TrainingImages(directory: FashionMLPEpoch.directory, syntheticCount: syntheticCount)
      let result = try run(data, context: context)
      context.onRankZero {
        var line = JSONLine()
        line.add("ranks", context.size)
        line.add("epoch_us", result.microseconds)
        line.add("steps", result.steps)
        line.add("mean_loss", result.meanLoss)
        line.add("allreduce_us_per_step", result.allreduceMicrosecondsPerStep)
        line.add("allreduce_isolated_us", result.isolatedAllreduceMicroseconds)
        line.add("allreduce_bytes_per_step", result.allreduceBytesPerStep)
        line.add("rank_compute_cpu_us", result.computeCPUMicroseconds)
        line.add("transport", context.description)
        print(line.text)
      }
      try context.finalize()
    } catch {
      FileHandle.standardError.write(Data("bench --ddp-worker: rank \(context.rank): \(error)\n".utf8))
      context.abort(code: 1)
    }
  }

  /// Times `rounds` pairs of (one process, the ranks) and returns the line for the ranks' side.
  func measure(rounds: Int, threads: Int) throws -> JSONLine {
    let data = TrainingImages(directory: FashionMLPEpoch.directory, syntheticCount: syntheticCount)
    var single: [RunResult] = [], distributed: [[String: Any]] = []
    for _ in 0..<rounds {
      single.append(try run(data, context: nil))
      distributed.append(try MPIWorkers.launch(name, ranks: ranks, threads: threads))
    }
    func values(_ key: String) -> [Double] { distributed.compactMap { ($0[key] as? NSNumber)?.doubleValue } }
    let times = values("epoch_us")
    var line = JSONLine()
    line.add("workload", name)
    line.add("engine", FashionMLPEpoch.engine)
    line.add("dtype", "float32")
    line.add("threads", threads)
    line.add("steps", rounds)
    line.add("median_us", median(times))
    line.add("min_us", times.min())
    line.add("max_us", times.max())
    line.add("data", data.source)
    line.add("step_unit", stepUnit)
    line.add("ranks", ranks)
    line.add("total_batch", globalBatch)
    line.add("batch_per_rank", globalBatch / ranks)
    line.add("batches_per_step", single[0].steps)
    let singleMedian = median(single.map(\.microseconds))
    line.add("single_process_us", singleMedian)
    line.add("speedup", singleMedian / median(times))
    line.add("allreduce_us_per_step", median(values("allreduce_us_per_step")))
    line.add("allreduce_isolated_us", median(values("allreduce_isolated_us")))
    line.add("allreduce_bytes_per_step", Int(median(values("allreduce_bytes_per_step"))))
    // What free cores would show: the slower rank's CPU time outside the averaging (work, not
    // waiting) plus the averaging as measured after a barrier, against the one process's CPU time.
    // On a shared machine the wall times above also contain waits for a core.
    let singleCPU = median(single.map(\.computeCPUMicroseconds))
    let projected =
      median(values("rank_compute_cpu_us")) + Double(single[0].steps)
      * median(values("allreduce_isolated_us"))
    line.add("single_process_cpu_us", singleCPU)
    line.add("rank_compute_cpu_us", median(values("rank_compute_cpu_us")))
    line.add("projected_us", projected)
    line.add("projected_speedup", singleCPU / projected)
    line.add("load_average", MPIWorkers.loadAverage())
    line.add("mean_loss", median(values("mean_loss")))
    line.add("single_process_mean_loss", median(single.map(\.meanLoss)))
    line.add("transport", (distributed.last?["transport"] as? String) ?? "")
    return line
  }
}
