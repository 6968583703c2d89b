import Awesomegrad
import AwesomegradDistributed
import AwesomegradModels
import Foundation

/// `ddp-overlap`: one optimizer step of the Fashion-MNIST CNN at batch 32 per rank with the gradients
/// averaged after backward (`averageGradients(of:)`) against during backward
/// (`averageGradients(of:overlapping:)`, PyTorch DDP's buckets), on the ranks mpirun started: two
/// ranks on this machine (`bench ddp-overlap`, shared memory), or one rank in each of two network
/// namespaces joined by a shaped link (`make ddp-hosts`, TCP).
///
/// The CNN is the model of this project that communicates the most per unit of compute: 1.69 MB of
/// gradients for about 0.8 GFLOP per rank-step (2.1 MB per GFLOP), where the char-level GPT step
/// (`charlm`'s model, 834,432 parameters, at batch 16 per rank) averages 3.34 MB for about 5.3 GFLOP
/// (0.63 MB per GFLOP). The context's defaults apply (buckets of 1 MiB, `progressInterval`).
///
/// Each round times a block of `blockSteps` consecutive steps of each kind: averaging after backward,
/// averaging during backward, and no averaging at all (`compute_ms`, what the step costs without
/// communication); then the averaging alone (`allreduce_ms`). Every block starts after a barrier and
/// counts until the slower rank has finished (the largest time over the ranks): with a tree or a deep
/// socket queue one rank can leave a collective long before the other. The line has the medians of
/// the blocks' time per step and
/// `model_prediction_ms`, what the ring-allreduce model predicts for one averaging:
///
///     t = 2·(p − 1)/p · N/β + 2·(p − 1)·α
///
/// with N = `bytes_per_step`, p the hosts, β the link's rate (`--link-rate`, tc's units: `1gbit` is
/// 10⁹ bit/s) and α its one-way delay (`--link-delay`; 0 when null). Without a link rate (the ranks
/// share memory) p is the ranks and β the bandwidth of one core copying the buffer, measured here.
enum DDPOverlap {
  static let name = "ddp-overlap"
  static let batchPerRank = 32
  static let warmUpSteps = 3
  static let blockSteps = 5

  /// Times about `steps` steps of each kind on 2 ranks of this machine (shared memory) and returns
  /// rank 0's line.
  static func measure(steps: Int, threads: Int) throws -> JSONLine {
    let object = try MPIWorkers.launch(name, threads: threads, extra: ["--steps", "\(steps)"])
    var line = JSONLine()
    line.add("workload", name)
    line.add("engine", FashionMLPEpoch.engine)
    line.add("dtype", "float32")
    line.add("threads", threads)
    line.add("steps", (object["steps"] as? NSNumber)?.intValue)
    line.add("median_us", (object["overlapped_ms"] as? NSNumber).map { 1000 * $0.doubleValue })
    func number(_ key: String) -> Double? { (object[key] as? NSNumber)?.doubleValue }
    line.add("rate", (object["rate"] as? String) ?? "shared memory")
    line.add("delay", .null)
    line.add("bytes_per_step", number("bytes_per_step").map { Int($0) })
    for key in ["after_backward_ms", "overlapped_ms", "overlap_speedup", "model_prediction_ms"] {
      line.add(key, number(key))
    }
    line.add("model", "cnn")
    for key in ["ranks", "nodes", "batch_per_rank"] { line.add(key, number(key).map { Int($0) }) }
    for key in [
      "compute_ms", "allreduce_ms", "model_bandwidth_bytes_per_second", "model_latency_ms", "load_average",
    ] {
      line.add(key, number(key))
    }
    line.add("transport", (object["transport"] as? String) ?? "")
    return line
  }

  /// Under mpirun: every rank trains the CNN for about `steps` steps of each kind (whole blocks);
  /// rank 0 prints the timing row.
  static func runWorker(steps: Int, linkRate: String?, linkDelay: String?) throws {
    let bitsPerSecond = try linkRate.map { try parseRate($0) }
    let delaySeconds = try linkDelay.map { try parseDelay($0) }
    let context = try Distributed.initialize(timeout: .seconds(600))
    do {
      let data = TrainingImages(directory: FashionMLPEpoch.directory, syntheticCount: 64 * 64)
      var generator = SeededGenerator(seed: 0)
      let model = CNNFashion.makeModel(using: &generator).0
      let optimizer = Adam(model.parameters, learningRate: 1e-3)
      try context.broadcastParameters(of: model.parameters)
      let batches = Array(
        MiniBatches(
          count: data.count, batchSize: batchPerRank * context.size, shuffle: true, using: &generator
        )
        .sharded(for: context))
      var next = 0
      enum Averaging { case afterBackward, overlapped, none }
      func step(_ averaging: Averaging) throws {
        let (rows, labels) = data.batch(batches[next % batches.count])
        next += 1
        optimizer.zeroGrad()
        let loss = crossEntropy(model(rows.reshaped([rows.shape[0], 1, 28, 28])), labels: labels)
        switch averaging {
        case .afterBackward:
          loss.backward()
          try context.averageGradients(of: model.parameters)
        case .overlapped:
          try context.averageGradients(of: model.parameters) { ready in
            loss.backward(onLeafGradientReady: ready)
          }
        case .none:
          loss.backward()
        }
        optimizer.step()
      }
      for _ in 0..<warmUpSteps {
        for averaging in [Averaging.afterBackward, .overlapped, .none] { try step(averaging) }
      }
      /// Microseconds per repetition of `body` in a block of `blockSteps`, on the slower rank.
      func block(_ body: () throws -> Void) throws -> Double {
        try context.barrier()
        let time = try MPIWorkers.microsecondsThrowing { for _ in 0..<blockSteps { try body() } }
        return try context.allreduce([time], .max)[0] / Double(blockSteps)
      }
      var after: [Double] = [], overlapped: [Double] = [], compute: [Double] = [], isolated: [Double] = []
      let before = context.statistics
      let blocks = (steps + blockSteps - 1) / blockSteps
      for _ in 0..<blocks {
        after.append(try block { try step(.afterBackward) })
        overlapped.append(try block { try step(.overlapped) })
        compute.append(try block { try step(.none) })
        isolated.append(try block { try context.averageGradients(of: model.parameters) })
      }
      let averagings = context.statistics.gradientAverages - before.gradientAverages
      let bytesPerStep =
        (context.statistics.allreduceBytes - before.allreduceBytes) / Swift.max(averagings, 1)
      // The model's inputs: the link, or (sharing memory) the ranks and a core's copy bandwidth.
      let hosts = context.nodeCount > 1 ? context.nodeCount : context.size
      let beta = bitsPerSecond.map { $0 / 8 } ?? copyBandwidth(bytes: bytesPerStep)
      let alpha = delaySeconds ?? 0
      let p = Double(hosts)
      let prediction = 2 * (p - 1) / p * Double(bytesPerStep) / beta + 2 * (p - 1) * alpha
      context.onRankZero {
        var line = JSONLine()
        line.add("rate", linkRate.map(JSONValue.string) ?? .string("shared memory"))
        line.add("delay", linkDelay.map(JSONValue.string) ?? .null)
        line.add("bytes_per_step", bytesPerStep)
        line.add("after_backward_ms", median(after) / 1000)
        line.add("overlapped_ms", median(overlapped) / 1000)
        line.add("overlap_speedup", median(after) / median(overlapped))
        line.add("model_prediction_ms", 1000 * prediction)
        line.add("model", "cnn")
        line.add("ranks", context.size)
        line.add("nodes", context.nodeCount)
        line.add("batch_per_rank", batchPerRank)
        line.add("steps", blocks * blockSteps)
        line.add("compute_ms", median(compute) / 1000)
        line.add("allreduce_ms", median(isolated) / 1000)
        line.add("model_bandwidth_bytes_per_second", beta)
        line.add("model_latency_ms", 1000 * alpha)
        line.add("first_bucket_bytes", context.firstBucketBytes)
        line.add("bucket_bytes", context.bucketBytes)
        line.add("load_average", MPIWorkers.loadAverage())
        line.add("transport", context.description)
        print(line.text)
      }
      try context.finalize()
    } catch {
      FileHandle.standardError.write(
        Data("bench --ddp-worker \(name): rank \(context.rank): \(error)\n".utf8))
      context.abort(code: 1)
    }
  }

  /// The bytes per second one core copies a buffer of `bytes` (the median of 20 copies): β of the
  /// model when the ranks share memory.
  static func copyBandwidth(bytes: Int) -> Double {
    let count = Swift.max(bytes, 1)
    let source = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 64)
    let destination = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 64)
    defer {
      source.deallocate()
      destination.deallocate()
    }
    source.initializeMemory(as: UInt8.self, repeating: 1, count: count)
    destination.initializeMemory(as: UInt8.self, repeating: 0, count: count)
    let times = (0..<20).map { _ in microseconds { destination.copyMemory(from: source, byteCount: count) } }
    return Double(count) / (median(times) / 1e6)
  }

  /// Bits per second of a rate in tc's units: `1gbit`, `100mbit`, `500kbit`, `8bit`, or bytes per
  /// second as `125mbps` (tc's `bps` is bytes). SI prefixes: `1gbit` is 10⁹ bit/s.
  static func parseRate(_ text: String) throws -> Double {
    let units: [(String, Double)] = [
      ("tbit", 1e12), ("gbit", 1e9), ("mbit", 1e6), ("kbit", 1e3), ("bit", 1),
      ("tbps", 8e12), ("gbps", 8e9), ("mbps", 8e6), ("kbps", 8e3), ("bps", 8),
    ]
    let lower = text.lowercased()
    for (unit, scale) in units where lower.hasSuffix(unit) {
      if let value = Double(lower.dropLast(unit.count)), value > 0 { return value * scale }
    }
    throw BenchError("--link-rate \(text): expected a rate in tc's units, such as 1gbit, 100mbit or 125mbps")
  }

  /// Seconds of a delay in tc's units: `0.2ms`, `200us`, `1s`.
  static func parseDelay(_ text: String) throws -> Double {
    let units: [(String, Double)] = [("us", 1e-6), ("ms", 1e-3), ("s", 1)]
    let lower = text.lowercased()
    for (unit, scale) in units where lower.hasSuffix(unit) {
      if let value = Double(lower.dropLast(unit.count)), value >= 0 { return value * scale }
    }
    throw BenchError("--link-delay \(text): expected a delay in tc's units, such as 0.2ms or 200us")
  }
}
