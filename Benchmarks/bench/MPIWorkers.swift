import Foundation

/// What the data-parallel workloads share: starting this `bench` under `mpirun` as worker ranks,
/// reading rank 0's JSON object, and the clocks they report.
enum MPIWorkers {
  /// A plain `mpirun` on this machine: Distributed.initialize chooses the transport (shared memory,
  /// no CMA, no default core binding) itself, as for any user. `--oversubscribe` lets 2 ranks start
  /// on a 1-core machine; mpirun's `--timeout` is a last resort.
  static func mpirunArguments(ranks: Int) -> [String] {
    ["-np", "\(ranks)", "--oversubscribe", "--timeout", "900"]
  }

  /// Runs `bench --ddp-worker --threads T workload extra…` on `ranks` ranks under mpirun and parses
  /// rank 0's last JSON object.
  static func launch(_ workload: String, ranks: Int = 2, threads: Int, extra: [String] = []) throws
    -> [String: Any]
  {
    let environment = ProcessInfo.processInfo.environment
    guard
      let mpirun = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        .map({ "\($0)/mpirun" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) })
    else {
      throw BenchError("\(workload): mpirun not found; install Open MPI with scripts/install-deps")
    }
    let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
    let ownPath =
      FileManager.default.isExecutableFile(atPath: executable) ? executable : CommandLine.arguments[0]
    let process = Process()
    process.executableURL = URL(fileURLWithPath: mpirun)
    process.arguments =
      mpirunArguments(ranks: ranks) + [ownPath, "--ddp-worker", "--threads", "\(threads)", workload] + extra
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
      throw BenchError(
        "\(workload): mpirun exited with status \(process.terminationStatus); output:\n\(text)")
    }
    return object
  }

  /// The 1-minute load average (other work on the machine), or nil where `/proc/loadavg` is missing.
  static func loadAverage() -> Double? {
    guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return nil }
    return text.split(separator: " ").first.flatMap { Double($0) }
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
}

/// A benchmark that could not run, with the reason.
struct BenchError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
