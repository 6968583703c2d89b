import Awesomegrad
import AwesomegradDistributed
import Foundation

/// `ddp-fashion-epoch`: one epoch of the Fashion-MNIST MLP (784-256-128-10, ReLU, Adam lr 1e-3, Float)
/// at a total batch of 128, on 2 ranks of 64 (`mpirun -np 2`, 1 BLAS thread each) against 1 process of
/// 128 (1 BLAS thread). Each side first trains 50 warm-up batches, untimed.
///
/// The parent `bench` process times the one-process epoch itself, then starts
/// `mpirun -np 2 <this bench> --ddp-worker ddp-fashion-epoch` on loopback and reads rank 0's result.
/// The JSON line's `median_us` is the 2-rank epoch; `single_process_us` the 1-process epoch; `speedup`
/// their ratio. `allreduce_us_per_step` is rank 0's time in `averageGradients` per step during the
/// epoch (packing, the allreduce, unpacking, and waiting for the slower rank);
/// `allreduce_isolated_us` the same call after a barrier, so without waiting (median of 50);
/// `allreduce_bytes_per_step` the fused buffer (235,146 gradients + 6 holder counts, 4 bytes each),
/// which with 2 ranks each rank both sends and receives once.
///
/// On a shared machine the wall times include waits for a core: Linux's autogroup scheduling gives
/// each session an equal share, so the two ranks (one session) get no more CPU than the one process
/// while other sessions are busy, and every step waits for the rank that lost its turn. The line
/// therefore also reports CPU times: `single_process_cpu_us`, `rank_compute_cpu_us` (the slower
/// rank's CPU time outside `averageGradients`), `projected_us` = that + steps × the isolated
/// averaging, and `projected_speedup`, what two free cores would show; and `load_average`.
enum DDPFashionEpoch {
  static let name = "ddp-fashion-epoch"
  static let ranks = 2
  static let totalBatch = 128
  static let warmUpBatches = 50
  static let isolatedRepetitions = 50

  /// Open MPI on this machine only: shared memory between the ranks, the runtime's TCP on loopback, no
  /// UCX, no core binding (other work shares the cores), root allowed (set in the environment).
  static let mpirunArguments = [
    "-np", "\(ranks)", "--oversubscribe", "--bind-to", "none",
    "--mca", "btl", "self,vader", "--mca", "btl_vader_single_copy_mechanism", "none",
    "--mca", "pml", "ob1", "--mca", "oob_tcp_if_include", "lo", "--timeout", "900",
  ]

  /// What one timed epoch measured.
  struct EpochResult {
    var microseconds: Double
    var steps: Int
    var meanLoss: Double
    var allreduceMicrosecondsPerStep = 0.0
    var allreduceBytesPerStep = 0
    var isolatedAllreduceMicroseconds = 0.0
    /// CPU time of the epoch outside `averageGradients`: the work itself, which waiting for a core
    /// does not inflate. The largest over the ranks.
    var computeCPUMicroseconds = 0.0
  }

  /// Trains `warmUpBatches` batches, then times one epoch. With a context, the batches are this rank's
  /// share of global batches of `totalBatch` and the gradients are averaged before each step.
  static func trainEpoch(_ data: TrainingImages, context: DistributedContext?) throws -> EpochResult {
    var generator = SeededGenerator(seed: 0)
    let model = MLP<Float>(
      inputs: 784, hiddenSizes: [256, 128], outputs: 10, activation: .relu, using: &generator)
    let optimizer = Adam(model.parameters, learningRate: 1e-3)
    try context?.broadcastParameters(of: model.parameters)
    func batches() -> [[Int]] {
      let global = MiniBatches(count: data.count, batchSize: totalBatch, shuffle: true, using: &generator)
      return context.map { Array(global.sharded(for: $0)) } ?? Array(global)
    }
    /// The mean loss over every rank's samples.
    var averagingCPU = 0.0
    func train(_ batches: some Sequence<[Int]>) throws -> Double {
      var lossSum = 0.0, seen = 0
      for indices in batches {
        let (x, labels) = data.batch(indices)
        optimizer.zeroGrad()
        let loss = crossEntropy(model(x), labels: labels)
        loss.backward()
        if let context {
          let cpuStart = processCPUMicroseconds()
          try context.averageGradients(of: model.parameters)
          averagingCPU += processCPUMicroseconds() - cpuStart
        }
        optimizer.step()
        lossSum += Double(loss.item()) * Double(indices.count)
        seen += indices.count
      }
      let totals = try context?.allreduce([lossSum, Double(seen)], .sum) ?? [lossSum, Double(seen)]
      return totals[0] / max(totals[1], 1)
    }
    _ = try train(batches().prefix(warmUpBatches))
    let epoch = batches()
    try context?.barrier()
    let before = context?.statistics ?? CommunicationStatistics()
    var loss = 0.0
    averagingCPU = 0
    let cpuStart = processCPUMicroseconds()
    let time = try microsecondsThrowing { loss = try train(epoch) }
    let computeCPU = processCPUMicroseconds() - cpuStart - averagingCPU
    var result = EpochResult(microseconds: time, steps: epoch.count, meanLoss: loss)
    result.computeCPUMicroseconds = try context?.allreduce([computeCPU], .max)[0] ?? computeCPU
    if let context {
      let after = context.statistics
      result.allreduceMicrosecondsPerStep =
        1e6 * (after.gradientAverageSeconds - before.gradientAverageSeconds) / Double(epoch.count)
      result.allreduceBytesPerStep = (after.allreduceBytes - before.allreduceBytes) / epoch.count
      var isolated: [Double] = []
      for _ in 0..<isolatedRepetitions {
        try context.barrier()
        isolated.append(try microsecondsThrowing { try context.averageGradients(of: model.parameters) })
      }
      result.isolatedAllreduceMicroseconds = median(isolated)
    }
    return result
  }

  /// CPU time of this process so far (user and system), in microseconds.
  static func processCPUMicroseconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now)
    return Double(now.tv_sec) * 1e6 + Double(now.tv_nsec) / 1e3
  }

  /// `microseconds(_:)` for a throwing body.
  static func microsecondsThrowing(_ body: () throws -> Void) throws -> Double {
    var failure: Error?
    let time = microseconds {
      do { try body() } catch { failure = error }
    }
    if let failure { throw failure }
    return time
  }

  /// Under mpirun: every rank trains; rank 0 prints one JSON object with its measurements.
  static func runWorker() throws {
    let context = try Distributed.initialize(timeout: .seconds(600))
    do {
      let data = TrainingImages(directory: FashionMLPEpoch.directory, syntheticCount: FashionMLPEpoch.samples)
      let result = try trainEpoch(data, context: context)
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
        print(line.text)
      }
      try context.finalize()
    } catch {
      FileHandle.standardError.write(Data("bench --ddp-worker: rank \(context.rank): \(error)\n".utf8))
      context.abort(code: 1)
    }
  }

  /// Times `rounds` pairs of (one process, 2 ranks) and returns the line for the 2-rank side.
  static func measure(rounds: Int, threads: Int) throws -> JSONLine {
    let data = TrainingImages(directory: FashionMLPEpoch.directory, syntheticCount: FashionMLPEpoch.samples)
    var single: [EpochResult] = [], distributed: [[String: Any]] = []
    for _ in 0..<rounds {
      single.append(try trainEpoch(data, context: nil))
      distributed.append(try launchWorkers(threads: threads))
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
    line.add("step_unit", "epoch")
    line.add("ranks", ranks)
    line.add("total_batch", totalBatch)
    line.add("batch_per_rank", totalBatch / ranks)
    line.add("batches_per_step", single[0].steps)
    let singleMedian = median(single.map(\.microseconds))
    line.add("single_process_us", singleMedian)
    line.add("speedup", singleMedian / median(times))
    line.add("allreduce_us_per_step", median(values("allreduce_us_per_step")))
    line.add("allreduce_isolated_us", median(values("allreduce_isolated_us")))
    line.add("allreduce_bytes_per_step", Int(median(values("allreduce_bytes_per_step"))))
    // What a machine with two free cores would show: the slower rank's CPU time outside the averaging
    // (work, not waiting) plus the averaging as measured after a barrier, against the one process's
    // CPU time. On a shared machine the wall times above also contain waits for a core.
    let singleCPU = median(single.map(\.computeCPUMicroseconds))
    let projected =
      median(values("rank_compute_cpu_us")) + Double(single[0].steps)
      * median(values("allreduce_isolated_us"))
    line.add("single_process_cpu_us", singleCPU)
    line.add("rank_compute_cpu_us", median(values("rank_compute_cpu_us")))
    line.add("projected_us", projected)
    line.add("projected_speedup", singleCPU / projected)
    line.add("load_average", loadAverage())
    line.add("mean_loss", median(values("mean_loss")))
    line.add("single_process_mean_loss", median(single.map(\.meanLoss)))
    return line
  }

  /// The 1-minute load average (other work on the machine), or nil where `/proc/loadavg` is missing.
  static func loadAverage() -> Double? {
    guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return nil }
    return text.split(separator: " ").first.flatMap { Double($0) }
  }

  /// Runs the worker side under mpirun and parses rank 0's JSON object.
  static func launchWorkers(threads: Int) throws -> [String: Any] {
    let environment = ProcessInfo.processInfo.environment
    guard
      let mpirun = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        .map({ "\($0)/mpirun" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) })
    else {
      throw BenchError("\(name): mpirun not found; install Open MPI with scripts/install-deps")
    }
    let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
    let ownPath =
      FileManager.default.isExecutableFile(atPath: executable) ? executable : CommandLine.arguments[0]
    let process = Process()
    process.executableURL = URL(fileURLWithPath: mpirun)
    process.arguments = mpirunArguments + [ownPath, "--ddp-worker", "--threads", "\(threads)", name]
    var childEnvironment = environment
    childEnvironment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
    childEnvironment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    childEnvironment["OPENBLAS_NUM_THREADS"] = "\(threads)"
    process.environment = childEnvironment
    let output = Pipe()
    process.standardOutput = output  // only rank 0's one line; stderr passes through
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let text = String(decoding: data, as: UTF8.self)
    guard process.terminationStatus == 0,
      let line = text.split(separator: "\n").last(where: { $0.hasPrefix("{") }),
      let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
    else {
      throw BenchError("\(name): mpirun exited with status \(process.terminationStatus); output:\n\(text)")
    }
    return object
  }
}

/// A benchmark that could not run, with the reason.
struct BenchError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
