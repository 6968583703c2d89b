import Foundation
import TestSupport
import Testing

/// Runs the `ddp-check` tool under `mpirun -np 2` on this machine and checks what it reports.
///
/// The proof: for a loss that is the mean over the batch, ∇(1/2B)Σ_{2B} ℓ = ½(∇(1/B)Σ_{first B} ℓ +
/// ∇(1/B)Σ_{last B} ℓ), so two ranks at batch B that average their gradients take the same step as
/// one process at batch 2B. `ddp-check` trains both ways from one seed (MLP 5-8-3, Double, 20 steps of
/// SGD with momentum, of Adam, and of Adam with the fused buffer cut into 200-byte windows; summed
/// through shared memory and, again, with MPI_Iallreduce; averaged during backward, in one bucket
/// and in four; and with the parameters broadcast again between each forward pass and its backward,
/// which must count as a read on rank 0 and change nothing elsewhere) and reports the largest parameter difference, which must be within 1e-12 (only the
/// order of the sums differs).
@Suite(.serialized) struct MPIEquivalenceTests {
  /// Open MPI on loopback only, as root in a container too: shared memory between the two ranks, the
  /// runtime's own TCP on `lo`, no UCX probing, no core binding, more ranks than cores allowed, and
  /// mpirun's own timeout as a last resort.
  static let mpirunArguments = [
    "--oversubscribe", "--bind-to", "none",
    "--mca", "btl", "self,vader", "--mca", "btl_vader_single_copy_mechanism", "none",
    "--mca", "pml", "ob1", "--mca", "oob_tcp_if_include", "lo", "--timeout", "240",
  ]

  /// The checks `ddp-check` runs, in order, one JSON row each.
  static let checkNames = [
    "sgd", "adam", "adam-small-fusion-windows", "sgd-mpi-allreduce",
    "adam-mpi-allreduce-small-fusion-windows", "sgd-overlapped", "adam-overlapped-small-buckets",
    "sgd-broadcast-after-forward",
  ]

  @Test func twoRanksTrainAsOneProcessAtTheGlobalBatch() throws {
    try checkEquivalence(ranks: 2, nodes: 1)
  }

  /// Four ranks grouped into two simulated machines of two: the node sums travel between the two node
  /// leaders with MPI_Iallreduce, as they would over a network. Against one process at batch 16.
  @Test func fourRanksOnTwoSimulatedMachinesTrainAsOneProcess() throws {
    try checkEquivalence(ranks: 4, nodes: 2, environment: ["AWESOMEGRAD_DISTRIBUTED_RANKS_PER_NODE": "2"])
  }

  func checkEquivalence(ranks: Int, nodes: Int, environment: [String: String] = [:]) throws {
    let run = try Self.runDDPCheck([], ranks: ranks, environment: environment)
    #expect(run.status == 0, "ddp-check failed:\n\(run.stdout)\n\(run.stderr)")
    let lines = run.stdout.split(separator: "\n").filter { $0.hasPrefix("{") }
    let results = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
    #expect(results.map { $0["check"] as? String } == Self.checkNames)
    for result in results {
      let name = result["check"] as? String ?? "?"
      #expect(result["ranks"] as? Int == ranks, "\(name)")
      #expect(result["nodes"] as? Int == nodes, "\(name)")
      #expect(result["steps"] as? Int == 20, "\(name)")
      #expect(result["global_batch"] as? Int == 4 * ranks, "\(name)")
      let difference = try #require(result["max_abs_difference"] as? Double)
      #expect(difference <= 1e-12, "\(name): max |distributed − one process| = \(difference)")
      #expect(result["rank_spread"] as? Double == 0, "\(name): the ranks' parameters differ")
      // Not vacuous: training moved the parameters, and the ranks saw different samples.
      #expect((result["max_parameter_change"] as? Double ?? 0) > 1e-2, "\(name)")
      #expect((result["local_gradient_spread"] as? Double ?? 0) > 1e-3, "\(name)")
      // MLP 5-8-3 has 5·8 + 8 + 8·3 + 3 = 75 parameters in 4 tensors: a fused vector of 4 holder
      // counts + 75 gradients = 79 Doubles = 632 bytes per step, 12,640 bytes in 20 steps; in windows
      // of 200 bytes = 25 Doubles, ⌈79/25⌉ = 4 allreduces per step. Overlapped buckets of at most 25
      // Doubles never split a tensor: [b₂ + 1 count] = 4, [W₂ + 1] = 25, [b₁ + 1] = 9, [W₁ + 1] = 41
      // (alone, over the limit): also 4 per step, the same 79 Doubles.
      #expect(result["allreduce_bytes"] as? Int == 12_640, "\(name)")
      let windowsPerStep = name.hasSuffix("fusion-windows") || name.hasSuffix("small-buckets") ? 4 : 1
      #expect(result["allreduce_calls"] as? Int == 20 * windowsPerStep, "\(name)")
    }
  }

  /// The last rank sleeps instead of joining a barrier: rank 0 must give up after its 2 s timeout with
  /// an error naming the call, and MPI_Abort must end the job, instead of a silent hang.
  @Test func aStalledRankIsATimeoutThatNamesTheCall() throws {
    let start = Date()
    let run = try Self.runDDPCheck(["--fault", "stall", "--timeout", "2"])
    #expect(run.status != 0)
    #expect(run.stderr.contains("MPI_Ibarrier did not complete within 2 s on rank 0 of 2"), "\(run.stderr)")
    #expect(Date().timeIntervalSince(start) < 60)
  }

  /// One rank averages the gradients of a parameter list one tensor shorter: every rank reports the
  /// mismatch (4 tensors of 75 scalars against 3 of 72) instead of summing misaligned buffers.
  @Test func mismatchedParameterListsAreReportedOnEveryRank() throws {
    let run = try Self.runDDPCheck(["--fault", "mismatch"])
    #expect(run.status != 0)
    #expect(
      run.stderr.contains("averageGradients: the ranks disagree: between 3 and 4 parameter tensors"),
      "\(run.stderr)")
  }

  // MARK: Running mpirun

  struct Run {
    var status: Int32
    var stdout: String
    var stderr: String
  }

  /// `mpirun -np <ranks> <mpirunArguments> ddp-check <arguments>`, with a deadline.
  static func runDDPCheck(_ arguments: [String], ranks: Int = 2, environment extra: [String: String] = [:])
    throws
    -> Run
  {
    let mpirun = try #require(
      findInPath("mpirun"), "mpirun not found: install Open MPI (openmpi-bin) with scripts/install-deps")
    let tool = try #require(
      findDDPCheck(),
      "the ddp-check executable is not next to the test bundle; run `swift build --product ddp-check` first")
    var environment = ProcessInfo.processInfo.environment
    environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
    environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    environment["OPENBLAS_NUM_THREADS"] = "1"
    environment.merge(extra) { $1 }
    return try run(
      mpirun, ["-np", "\(ranks)"] + mpirunArguments + [tool.path] + arguments, environment: environment,
      deadline: 300)
  }

  /// Runs `executable`, its output going to temporary files (a pipe could fill and block it), and kills it
  /// after `deadline` seconds. An `mpirun` gets its own session directory there
  /// (`OMPI_MCA_orte_tmpdir_base`): suites run side by side, and one mpirun that ends removes the shared
  /// default directory while another starts in it ("orte_session_dir failed").
  static func run(_ executable: URL, _ arguments: [String], environment: [String: String], deadline: Double)
    throws
    -> Run
  {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "ddp-check-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let outURL = directory.appendingPathComponent("stdout"),
      errURL = directory.appendingPathComponent("stderr")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    var environment = environment
    if environment["OMPI_MCA_orte_tmpdir_base"] == nil {
      environment["OMPI_MCA_orte_tmpdir_base"] = directory.path
    }
    process.environment = environment
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let end = Date().addingTimeInterval(deadline)
    while process.isRunning && Date() < end { usleep(20_000) }
    if process.isRunning {
      process.terminate()
      process.waitUntilExit()
      Issue.record("mpirun did not finish within \(deadline) s")
    }
    process.waitUntilExit()
    try out.close()
    try err.close()
    return Run(
      status: process.terminationStatus, stdout: try String(contentsOf: outURL, encoding: .utf8),
      stderr: try String(contentsOf: errURL, encoding: .utf8))
  }

  static func findInPath(_ name: String) -> URL? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    return path.split(separator: ":").map { URL(fileURLWithPath: String($0)).appendingPathComponent(name) }
      .first { FileManager.default.isExecutableFile(atPath: $0.path) }
  }

  static func findDDPCheck() -> URL? { ExampleProcess.executable("ddp-check") }
}
