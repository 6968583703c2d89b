import Foundation

/// Renders Graphviz DOT text with the `dot` program, when it is installed.
public enum Graphviz {
  /// The path of `dot` on `PATH`, or nil when Graphviz is not installed.
  public static func dotExecutable() -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin:/usr/local/bin"
    for folder in path.split(separator: ":") {
      let candidate = "\(folder)/dot"
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
  }

  /// Writes `dot` rendered to `path` in the format its extension names (`svg`, `png`, `pdf`).
  public static func render(_ dot: String, with program: String, to path: String) throws {
    let format = URL(fileURLWithPath: path).pathExtension
    let process = Process()
    process.executableURL = URL(fileURLWithPath: program)
    process.arguments = ["-T\(format)", "-o", path]
    let input = Pipe(), errors = Pipe()
    process.standardInput = input
    process.standardError = errors
    try process.run()
    input.fileHandleForWriting.write(Data(dot.utf8))
    try input.fileHandleForWriting.close()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      throw GraphvizError(
        message: "dot -T\(format) failed with status \(process.terminationStatus): \(message)")
    }
  }
}

/// `dot` could not render a graph.
public struct GraphvizError: Error, CustomStringConvertible {
  /// What dot said.
  public let message: String
  public var description: String { message }
}
