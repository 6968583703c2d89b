// Proves that data-parallel training is one process at the global batch, split across ranks:
//
//     mpirun -np 2 ddp-check            (make ddp-check; the AwesomegradDistributed tests run it too)
//
// Every rank trains an MLP 5-8-3 (tanh, Double) with a batch-mean cross-entropy for --steps steps on
// its part of each global batch of ranks × --batch-size samples, averaging gradients with
// `averageGradients` before each step. Each rank then trains the same model in one process at the
// global batch, with no MPI at all, and compares. Since ∇ mean over 2B = ½(∇ mean over the first B +
// ∇ mean over the last B), the two agree up to the rounding of the sums.
//
// Rank 0 prints one JSON object per check: the largest |distributed − one process| over the
// parameters, the spread between ranks (must be 0), how far training moved the parameters and how
// much the ranks' local gradients differed before averaging (both must be > 0 for the check to mean
// anything). It exits with status 1 when a difference exceeds --tolerance.
import ArgumentParser
import Awesomegrad
import AwesomegradDistributed
import Foundation

@main
struct DDPCheck: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ddp-check",
    abstract:
      "Checks that N ranks at batch B train exactly as one process at batch N·B (SGD and Adam, Double).")

  @Option(help: "Optimizer steps per check.")
  var steps = 20

  @Option(help: "Samples per rank per step.")
  var batchSize = 4

  @Option(help: "Seed of the model's initial weights, the data and the shuffle.")
  var seed: UInt64 = 0

  @Option(help: "The largest difference from the one-process run that passes.")
  var tolerance = 1e-12

  @Option(help: "Seconds a collective may wait for the other ranks.")
  var timeout = 120

  @Option(help: "automatic (MPI under a launcher), mpi (also as a singleton without one) or single.")
  var launch = "automatic"

  @Flag(
    help: """
      Instead of the checks, print the MPI job's transport as one JSON object (rank 0): the context's \
      description and each setting with its value and origin (environment, parameter-file, awesomegrad, \
      open-mpi-default).
      """)
  var showTransport = false

  @Option(
    help: """
      Instead of the checks, make a fault to see how it is reported: 'stall' (the last rank sleeps \
      instead of joining a barrier; the others time out) or 'mismatch' (the last rank averages one \
      parameter fewer).
      """)
  var fault: String?

  func validate() throws {
    guard steps >= 1, batchSize >= 1 else {
      throw ValidationError("--steps and --batch-size must be at least 1.")
    }
    guard timeout >= 1 else { throw ValidationError("--timeout must be at least 1.") }
    guard ["automatic", "mpi", "single"].contains(launch) else {
      throw ValidationError("--launch must be automatic, mpi or single.")
    }
    guard fault == nil || ["stall", "mismatch"].contains(fault!) else {
      throw ValidationError("--fault must be stall or mismatch.")
    }
  }

  func run() throws {
    setThreadCount(1)
    let context: DistributedContext
    do {
      let mode: Distributed.LaunchMode =
        launch == "mpi" ? .mpi : launch == "single" ? .singleProcess : .automatic
      context = try Distributed.initialize(mode, timeout: .seconds(timeout))
    } catch {
      FileHandle.standardError.write(Data("ddp-check: \(error)\n".utf8))
      throw ExitCode.failure
    }
    var failed = false
    do {
      if showTransport {
        context.onRankZero { print(transportJSON(context)) }
        try context.finalize()
        return
      }
      if let fault { try makeFault(fault, context: context) }
      // overlap: nil averages after backward; a byte count averages during it (averageGradients(of:
      // overlapping:)) with buckets of at most that size. resync: broadcast the parameters again
      // between each forward pass and its backward (a re-sync must count as a read on the root).
      let checks:
        [(
          name: String, optimizer: OptimizerKind, fusionBytes: Int?, reduction: GradientReduction,
          overlap: Int?, resync: Bool
        )] = [
          ("sgd", .sgd, nil, .hierarchical, nil, false), ("adam", .adam, nil, .hierarchical, nil, false),
          // 200 bytes = 25 Doubles per window: many allreduces, tensors split across windows.
          ("adam-small-fusion-windows", .adam, 200, .hierarchical, nil, false),
          ("sgd-mpi-allreduce", .sgd, nil, .mpi, nil, false),
          ("adam-mpi-allreduce-small-fusion-windows", .adam, 200, .mpi, nil, false),
          // One bucket (PyTorch's sizes), then 200-byte buckets: 4, started during backward.
          ("sgd-overlapped", .sgd, nil, .hierarchical, 1 << 20, false),
          ("adam-overlapped-small-buckets", .adam, nil, .hierarchical, 200, false),
          ("sgd-broadcast-after-forward", .sgd, nil, .hierarchical, nil, true),
        ]
      // Integer buffers travel with the model, exactly: rank r's counter starts at 2²⁴ + 1 + r (no
      // Float holds 2²⁴ + 1), and after the broadcast every rank has rank 0's.
      let norm = BatchNorm1d<Float>(features: 1)
      norm.batchesTracked.values = [(1 << 24) + 1 + Int64(context.rank)]
      try context.broadcastParameters(of: norm)
      if norm.batchesTracked.values != [(1 << 24) + 1] {
        FileHandle.standardError.write(
          Data("ddp-check: rank \(context.rank): num_batches_tracked is \(norm.batchesTracked.values)\n".utf8)
        )
        failed = true
      }
      for check in checks {
        context.gradientReduction = check.reduction
        let result = try runCheck(
          check.name, check.optimizer, fusionBytes: check.fusionBytes, overlapBucketBytes: check.overlap,
          resyncAfterForward: check.resync, context: context)
        if result.maxDifference > tolerance || result.rankSpread != 0 { failed = true }
        context.onRankZero { print(result.json) }
      }
      try context.finalize()
    } catch {
      FileHandle.standardError.write(Data("ddp-check: rank \(context.rank): \(error)\n".utf8))
      context.abort(code: 1)
    }
    if failed { throw ExitCode.failure }
  }

  /// `{"check": "transport", "ranks", "nodes", "description", "settings": {name: {"value", "origin"}}}`.
  func transportJSON(_ context: DistributedContext) -> String {
    func quoted(_ text: String) -> String {
      let data = try! JSONSerialization.data(withJSONObject: text, options: [.fragmentsAllowed])
      return String(decoding: data, as: UTF8.self)
    }
    func origin(_ origin: TransportSetting.Origin) -> String {
      switch origin {
      case .environment: "environment"
      case .parameterFile: "parameter-file"
      case .awesomegrad: "awesomegrad"
      case .openMPIDefault: "open-mpi-default"
      }
    }
    let settings = context.transport.map {
      "\(quoted($0.name)): {\"value\": \(quoted($0.value)), \"origin\": \(quoted(origin($0.origin)))}"
    }
    return "{\"check\": \"transport\", \"ranks\": \(context.size), \"nodes\": \(context.nodeCount), "
      + "\"description\": \(quoted(context.description)), \"settings\": {\(settings.joined(separator: ", "))}}"
  }

  /// Breaks the lockstep of the ranks on purpose; the error must name the call on every rank that sees it.
  func makeFault(_ fault: String, context: DistributedContext) throws(DistributedError) {
    let isLast = context.rank == context.size - 1
    switch fault {
    case "stall":
      if isLast { sleep(UInt32(timeout * 3)) }
      try context.barrier()
    default:  // mismatch
      var rng = SeededGenerator(seed: seed)
      let model = Problem(samples: 1, seed: seed).makeModel(using: &rng)
      try context.averageGradients(of: Array(model.parameters.dropLast(isLast ? 1 : 0)))
    }
  }

  enum OptimizerKind { case sgd, adam }

  struct CheckResult {
    var name: String, ranks: Int, nodes: Int, steps: Int, batchPerRank: Int, fusionBytes: Int
    var overlapBucketBytes: Int?
    var maxDifference: Double, rankSpread: Double, maxChange: Double, localGradientSpread: Double
    var allreduceCalls: Int, allreduceBytes: Int

    var json: String {
      func number(_ x: Double) -> String { String(format: "%.6g", x) }
      return
        "{\"check\": \"\(name)\", \"ranks\": \(ranks), \"nodes\": \(nodes), \"steps\": \(steps), \"batch_per_rank\": \(batchPerRank), "
        + "\"global_batch\": \(ranks * batchPerRank), \"fusion_threshold_bytes\": \(fusionBytes), "
        + "\"overlapped_bucket_bytes\": \(overlapBucketBytes.map(String.init) ?? "null"), "
        + "\"max_abs_difference\": \(number(maxDifference)), \"rank_spread\": \(number(rankSpread)), "
        + "\"max_parameter_change\": \(number(maxChange)), "
        + "\"local_gradient_spread\": \(number(localGradientSpread)), "
        + "\"allreduce_calls\": \(allreduceCalls), \"allreduce_bytes\": \(allreduceBytes)}"
    }
  }

  /// Trains distributed and in one process from the same seed; compares the final parameters.
  func runCheck(
    _ name: String, _ kind: OptimizerKind, fusionBytes: Int?, overlapBucketBytes: Int?,
    resyncAfterForward: Bool = false, context: DistributedContext
  ) throws(DistributedError) -> CheckResult {
    let saved = (context.fusionThresholdBytes, context.firstBucketBytes, context.bucketBytes)
    defer { (context.fusionThresholdBytes, context.firstBucketBytes, context.bucketBytes) = saved }
    if let fusionBytes { context.fusionThresholdBytes = fusionBytes }
    if let overlapBucketBytes {
      (context.firstBucketBytes, context.bucketBytes) = (overlapBucketBytes, overlapBucketBytes)
    }
    let before = context.statistics
    let data = Problem(samples: steps * batchSize * context.size, seed: seed)

    // Distributed: this rank's part of each global batch, gradients averaged over the ranks.
    var rng = SeededGenerator(seed: seed)
    let model = data.makeModel(using: &rng)
    let initial = model.parameters.flatMap(\.scalars)
    let optimizer = kind.make(model.parameters)
    try context.broadcastParameters(of: model.parameters)
    let batches = MiniBatches(count: data.count, batchSize: batchSize * context.size, using: &rng)
    var localGradientSpread = 0.0
    for (step, indices) in batches.sharded(for: context).enumerated() {
      optimizer.zeroGrad()
      let loss = crossEntropy(model(data.x.gatheringRows(indices)), labels: indices.map { data.labels[$0] })
      // The ranks are in step, so this changes no value: backward must still run on every rank.
      if resyncAfterForward { try context.broadcastParameters(of: model.parameters) }
      if overlapBucketBytes != nil {
        // The local gradients, as each becomes final (before its bucket is averaged), for the spread.
        var local: [ObjectIdentifier: [Double]] = [:]
        try context.averageGradients(of: model.parameters) { ready in
          loss.backward { leaf in
            if step == 0 { local[ObjectIdentifier(leaf)] = leaf.grad!.scalars }
            ready(leaf)
          }
        }
        if step == 0 {
          localGradientSpread = try spread(model.parameters.flatMap { local[ObjectIdentifier($0)]! }, context)
        }
      } else {
        loss.backward()
        if step == 0 {
          localGradientSpread = try spread(model.parameters.flatMap { $0.grad!.scalars }, context)
        }
        try context.averageGradients(of: model.parameters)
      }
      optimizer.step()
    }
    let distributed = model.parameters.flatMap(\.scalars)

    // One process at the global batch, from the same seed, without the distributed layer.
    var referenceRNG = SeededGenerator(seed: seed)
    let reference = data.makeModel(using: &referenceRNG)
    let referenceOptimizer = kind.make(reference.parameters)
    for indices in MiniBatches(count: data.count, batchSize: batchSize * context.size, using: &referenceRNG) {
      referenceOptimizer.zeroGrad()
      crossEntropy(reference(data.x.gatheringRows(indices)), labels: indices.map { data.labels[$0] })
        .backward()
      referenceOptimizer.step()
    }
    let expected = reference.parameters.flatMap(\.scalars)

    let localDifference = zip(distributed, expected).map { abs($0 - $1) }.max() ?? 0
    let maxDifference = try context.allreduce([localDifference], .max)[0]
    let statistics = context.statistics
    return CheckResult(
      name: name, ranks: context.size, nodes: context.nodeCount, steps: steps, batchPerRank: batchSize,
      fusionBytes: context.fusionThresholdBytes, overlapBucketBytes: overlapBucketBytes,
      maxDifference: maxDifference,
      rankSpread: try spread(distributed, context),
      maxChange: zip(expected, initial).map { abs($0 - $1) }.max() ?? 0,
      localGradientSpread: localGradientSpread,
      allreduceCalls: statistics.allreduceCalls - before.allreduceCalls,
      allreduceBytes: statistics.allreduceBytes - before.allreduceBytes)
  }

  /// max over elements of (max over ranks − min over ranks).
  func spread(_ values: [Double], _ context: DistributedContext) throws(DistributedError) -> Double {
    let extremes = try context.allreduce(values + values.map { -$0 }, .max)
    return (0..<values.count).map { extremes[$0] + extremes[values.count + $0] }.max() ?? 0
  }
}

extension DDPCheck.OptimizerKind {
  func make(_ parameters: [Tensor<Double>]) -> any Optimizer<Double> {
    switch self {
    case .sgd: SGD(parameters, learningRate: 0.1, momentum: 0.9)
    case .adam: Adam(parameters, learningRate: 0.01)
    }
  }
}

/// Three-class data in five dimensions: the class is the largest of three fixed linear scores of x.
struct Problem {
  let x: Tensor<Double>
  let labels: [Int]
  var count: Int { labels.count }

  init(samples: Int, seed: UInt64) {
    var rng = SeededGenerator(seed: seed &+ 1)
    x = Tensor<Double>.randomNormal([samples, 5], using: &rng)
    let w = Tensor<Double>.randomNormal([5, 3], using: &rng)
    let scores = x.matmul(w).scalars
    labels = (0..<samples).map { row in (0..<3).max { scores[row * 3 + $0] < scores[row * 3 + $1] }! }
  }

  func makeModel(using rng: inout SeededGenerator) -> MLP<Double> {
    MLP<Double>(inputs: 5, hiddenSizes: [8], outputs: 3, activation: .tanh, using: &rng)
  }
}
