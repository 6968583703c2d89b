import Foundation
import Testing

/// Shared by the test targets that run the package's executables.
///
/// One run of an example executable, its output going to files (a pipe could fill and block it), for
/// the tests that kill, signal and restart the examples.
public final class ExampleProcess {
  public let process = Process()
  public let outputURL: URL
  public let errorURL: URL
  private let outputHandle: FileHandle
  private let errorHandle: FileHandle

  /// Starts `executable` with `arguments`; its output goes to files in `directory`, named after `label`.
  public init(_ executable: URL, _ arguments: [String], in directory: String, label: String) throws {
    outputURL = URL(fileURLWithPath: directory).appendingPathComponent("\(label).out")
    errorURL = URL(fileURLWithPath: directory).appendingPathComponent("\(label).err")
    _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errorURL.path, contents: nil)
    outputHandle = try FileHandle(forWritingTo: outputURL)
    errorHandle = try FileHandle(forWritingTo: errorURL)
    process.executableURL = executable
    process.arguments = arguments
    var environment = ProcessInfo.processInfo.environment
    environment["OPENBLAS_NUM_THREADS"] = "1"
    environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
    environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    process.environment = environment
    process.standardOutput = outputHandle
    process.standardError = errorHandle
    try process.run()
  }

  /// Runs to the end (or `deadline` seconds, then it is killed and the test fails).
  @discardableResult
  public static func run(
    _ executable: URL, _ arguments: [String], in directory: String, label: String, deadline: Double = 300
  ) throws -> ExampleProcess {
    let run = try ExampleProcess(executable, arguments, in: directory, label: label)
    run.wait(deadline: deadline)
    return run
  }

  /// Waits until `condition` holds or the process ends; returns whether the condition held.
  @discardableResult
  public func wait(until condition: () -> Bool, deadline: Double = 300) -> Bool {
    let end = Date().addingTimeInterval(deadline)
    while Date() < end {
      if condition() { return true }
      if !process.isRunning { return condition() }
      usleep(2_000)
    }
    return condition()
  }

  /// Waits for the end, at most `deadline` seconds (then kills it and records an issue); returns
  /// whether it ended in time.
  @discardableResult
  public func wait(deadline: Double = 300) -> Bool {
    let end = Date().addingTimeInterval(deadline)
    while process.isRunning && Date() < end { usleep(5_000) }
    if process.isRunning {
      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
      Issue.record("\(process.executableURL?.lastPathComponent ?? "?") did not end within \(deadline) s")
      return false
    }
    process.waitUntilExit()
    return true
  }

  /// Sends `signal` to the process.
  public func send(_ signal: Int32) { kill(process.processIdentifier, signal) }

  /// What it printed on stdout so far.
  public var output: String { (try? String(contentsOf: outputURL, encoding: .utf8)) ?? "" }
  /// What it printed on stderr so far.
  public var errors: String { (try? String(contentsOf: errorURL, encoding: .utf8)) ?? "" }

  deinit {
    if process.isRunning {
      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
    }
    try? outputHandle.close()
    try? errorHandle.close()
  }

  /// The package's executable `name`, built next to the test bundle (`swift test` builds every
  /// product; `.build/<triple>/debug`). On macOS the test binary sits three levels inside the
  /// `.xctest` bundle.
  public static func executable(_ name: String) -> URL? {
    var candidates: [URL] = []
    #if os(Linux)
      candidates.append(URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath())
    #endif
    if let main = Bundle.main.executableURL { candidates.append(main) }
    candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]))
    for start in candidates {
      var directory = start.deletingLastPathComponent()
      for _ in 0..<5 {
        let tool = directory.appendingPathComponent(name)
        if FileManager.default.isExecutableFile(atPath: tool.path) { return tool }
        directory = directory.deletingLastPathComponent()
      }
    }
    return nil
  }

  /// A scratch folder, removed by the caller.
  public static func scratch(_ label: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
      .path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }

  /// A small Fashion-MNIST look-alike in `directory`: `trainCount` training and `testCount` test images
  /// of 28×28 random bytes with random labels 0–9, as uncompressed IDX files under the standard names.
  public static func writeTinyFashionMNIST(to directory: String, trainCount: Int, testCount: Int) throws {
    var seeded = UInt64(12345)
    func next() -> UInt8 {  // a fixed sequence (SplitMix64's increment, top byte), not the system's
      seeded &+= 0x9E37_79B9_7F4A_7C15
      return UInt8(truncatingIfNeeded: (seeded ^ (seeded >> 31)) >> 56)
    }
    func bigEndian(_ values: [Int]) -> [UInt8] {
      values.flatMap { value in (0..<4).reversed().map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
    }
    for (prefix, count) in [("train", trainCount), ("t10k", testCount)] {
      let images = bigEndian([0x0803, count, 28, 28]) + (0..<(count * 784)).map { _ in next() }
      let labels = bigEndian([0x0801, count]) + (0..<count).map { _ in next() % 10 }
      try Data(images).write(to: URL(fileURLWithPath: "\(directory)/\(prefix)-images-idx3-ubyte"))
      try Data(labels).write(to: URL(fileURLWithPath: "\(directory)/\(prefix)-labels-idx1-ubyte"))
    }
  }
}
