import ArgumentParser
import Foundation
import TorchConformance

/// Runs every case of PyTorch-generated op fixtures through Awesomegrad in Double and Float, prints
/// one line per failing case, and ends with `N passed, M failed`.
///
/// A case that crashes (a trap in the library) must count as one failing case, not end the run: the
/// cases of each file run in a child process of this tool (`--worker`), which prints one result line
/// per case. When the child dies, the case after the last one it reported is the one that crashed;
/// it fails with the child's fatal-error message, and a new child continues from the next case.
struct ConformanceCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "conformance",
    abstract: "Compare Awesomegrad's ops and gradients with PyTorch reference fixtures.",
    discussion: """
      Each FILE is a JSON fixture in the format of Tests/AwesomegradTests/Fixtures/torch_ops_seed0.json \
      (made by make_torch_fixtures.py). A case passes when its output and gradients match in both \
      Double (tolerance 1e-9) and Float (1e-4), where a matches b if |a - b| <= tol * (1 + |b|). \
      A case that crashes fails, and the run goes on. The exit status is non-zero if any case fails.
      """)

  @Argument(help: "Fixture files to run.")
  var files: [String]

  @Flag(name: .shortAndLong, help: "Also print a line for every passing case.")
  var verbose = false

  @Option(help: "Tolerance for Double.")
  var doubleTolerance = 1e-9

  @Option(help: "Tolerance for Float.")
  var floatTolerance = 1e-4

  /// Internal: run the cases of the one FILE from this index on, in this process, reporting each
  /// case to the parent (see `Worker`).
  @Option(help: .hidden)
  var worker: Int?

  func run() throws {
    let runner = ConformanceRunner(doubleTolerance: doubleTolerance, floatTolerance: floatTolerance)
    if let worker {
      try Worker.run(files[0], from: worker, runner: runner)
      return
    }
    var passed = 0, failed = 0
    for file in files {
      let fixture: Fixture
      do {
        fixture = try Fixture(contentsOf: URL(fileURLWithPath: file))
      } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode(2)
      }
      for result in try Worker.results(of: fixture, file: file, arguments: workerArguments) {
        if result.passed {
          passed += 1
          if verbose { print("\(file): \(result.line)") }
        } else {
          failed += 1
          print("\(file): \(result.line)")
        }
      }
    }
    print("\(passed) passed, \(failed) failed")
    if failed > 0 { throw ExitCode.failure }
  }

  /// The options a child needs to judge cases as this process would.
  var workerArguments: [String] {
    ["--double-tolerance", "\(doubleTolerance)", "--float-tolerance", "\(floatTolerance)"]
  }
}

/// The child-process side of the crash isolation, and the parent's reading of it.
///
/// A child prints `CASE <index> <dtype>` before it runs a case in a dtype and `RESULT <index> PASS|FAIL
/// <the result's description>` after the case, flushing each line, so the parent knows which case
/// and dtype were running when a child died.
enum Worker {
  /// In the child: runs the cases of `file` from `start` on.
  static func run(_ file: String, from start: Int, runner: ConformanceRunner) throws {
    let fixture = try Fixture(contentsOf: URL(fileURLWithPath: file))
    for index in start..<fixture.cases.count {
      var reporting = runner
      reporting.willCheck = { dtype in FileHandle.standardOutput.write(Data("CASE \(index) \(dtype)\n".utf8))
      }
      let result = reporting.run(fixture.cases[index])
      FileHandle.standardOutput.write(
        Data("RESULT \(index) \(result.passed ? "PASS" : "FAIL") \(result)\n".utf8))
    }
  }

  /// In the parent: for every case of `fixture`, whether it passed and its line (CaseResult's
  /// description), running the cases in children of this executable and restarting after a crash.
  static func results(
    of fixture: Fixture, file: String, arguments: [String]
  ) throws -> [(passed: Bool, line: String)] {
    var results: [(passed: Bool, line: String)] = []
    while results.count < fixture.cases.count {
      let start = results.count
      let child = try runChild(file: file, from: start, arguments: arguments)
      var dtype = "float64"
      for line in child.stdout.split(separator: "\n") {
        let fields = line.split(separator: " ", maxSplits: 3)
        guard fields.count >= 3, let index = Int(fields[1]), index == results.count else { continue }
        if fields[0] == "CASE" { dtype = String(fields[2]) }
        if fields[0] == "RESULT", fields.count == 4 {
          results.append((fields[2] == "PASS", String(fields[3])))
        }
      }
      if results.count == fixture.cases.count { break }
      // The child stopped before the end: the case it was running crashed it.
      let testCase = fixture.cases[results.count]
      let crashed = CaseResult(
        name: testCase.name, op: testCase.op, passed: false, worstDeviation: .infinity, dtype: dtype,
        message: "crashed: \(crashReason(child))")
      results.append((false, crashed.description))
      if child.stdout.isEmpty && !child.stderr.contains("Fatal error") {
        // The worker could not start (not a crash in a case): report the rest as not run.
        for testCase in fixture.cases[results.count...] {
          let skipped = CaseResult(
            name: testCase.name, op: testCase.op, passed: false, worstDeviation: .infinity, dtype: dtype,
            message: "not run: \(crashReason(child))")
          results.append((false, skipped.description))
        }
      }
    }
    return results
  }

  struct ChildRun {
    var status: Int32
    var reason: Process.TerminationReason
    var stdout: String
    var stderr: String
  }

  /// Runs this executable as a worker on `file` from case `start`, its output in temporary files.
  static func runChild(file: String, from start: Int, arguments: [String]) throws -> ChildRun {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "conformance-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let outURL = directory.appendingPathComponent("stdout"),
      errURL = directory.appendingPathComponent("stderr")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    if !FileManager.default.isExecutableFile(atPath: process.executableURL!.path) {
      process.executableURL = Bundle.main.executableURL
    }
    process.arguments = [file, "--worker", "\(start)"] + arguments
    var environment = ProcessInfo.processInfo.environment
    environment["SWIFT_BACKTRACE"] = "enable=no"  // a crash is expected here; its message is enough
    process.environment = environment
    process.standardOutput = out
    process.standardError = err
    try process.run()
    process.waitUntilExit()
    try out.close()
    try err.close()
    return ChildRun(
      status: process.terminationStatus, reason: process.terminationReason,
      stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
      stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
  }

  /// The child's fatal-error line when it printed one, else how it ended.
  static func crashReason(_ child: ChildRun) -> String {
    if let line = child.stderr.split(separator: "\n").first(where: { $0.contains("Fatal error") }) {
      return String(line)
    }
    if let line = child.stderr.split(separator: "\n").first(where: { !$0.isEmpty }) {
      return String(line)
    }
    return child.reason == .uncaughtSignal
      ? "signal \(child.status)" : "the worker exited with status \(child.status)"
  }
}

ConformanceCommand.main()
