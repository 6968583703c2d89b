import ArgumentParser
import Foundation
import TorchConformance

/// Runs every case of PyTorch-generated op fixtures through Awesomegrad in Double and Float, prints
/// one line per failing case, and ends with `N passed, M failed`.
struct ConformanceCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "conformance",
    abstract: "Compare Awesomegrad's ops and gradients with PyTorch reference fixtures.",
    discussion: """
      Each FILE is a JSON fixture in the format of Tests/AwesomegradTests/Fixtures/torch_ops_seed0.json \
      (made by make_torch_fixtures.py). A case passes when its output and gradients match in both \
      Double (tolerance 1e-9) and Float (1e-4), where a matches b if |a - b| <= tol * (1 + |b|). \
      The exit status is non-zero if any case fails.
      """)

  @Argument(help: "Fixture files to run.")
  var files: [String]

  @Flag(name: .shortAndLong, help: "Also print a line for every passing case.")
  var verbose = false

  @Option(help: "Tolerance for Double.")
  var doubleTolerance = 1e-9

  @Option(help: "Tolerance for Float.")
  var floatTolerance = 1e-4

  func run() throws {
    let runner = ConformanceRunner(doubleTolerance: doubleTolerance, floatTolerance: floatTolerance)
    var passed = 0, failed = 0
    for file in files {
      let fixture: Fixture
      do {
        fixture = try Fixture(contentsOf: URL(fileURLWithPath: file))
      } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode(2)
      }
      for result in runner.run(fixture) {
        if result.passed {
          passed += 1
          if verbose { print("\(file): \(result)") }
        } else {
          failed += 1
          print("\(file): \(result)")
        }
      }
    }
    print("\(passed) passed, \(failed) failed")
    if failed > 0 { throw ExitCode.failure }
  }
}

ConformanceCommand.main()
