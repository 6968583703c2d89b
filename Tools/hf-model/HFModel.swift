import ArgumentParser
import Awesomegrad
import AwesomegradModels
import AwesomegradTokenizers
import Foundation

/// `hf-model`: Hugging Face GPT-2 and Llama folders from the shell (the interface in DESIGN.md).
@main
struct HFModel: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "hf-model",
    abstract: "Tokenize, run, generate with, fine-tune and save Hugging Face GPT-2 and Llama checkpoints.",
    subcommands: [Tokenize.self, Decode.self, Logits.self, Generate.self, Loss.self, Finetune.self])
}

/// Prints `message` on standard error as one line and returns the exit code 1.
func fail(_ error: any Error) -> ExitCode {
  FileHandle.standardError.write(Data("hf-model: \(String(describing: error))\n".utf8))
  return ExitCode(1)
}

/// Runs `body`, turning any error into one line on standard error and exit status 1.
func reportingErrors(_ body: () throws -> Void) throws {
  do {
    try body()
  } catch let error as ExitCode {
    throw error
  } catch {
    throw fail(error)
  }
}

/// `1,2,3` → [1, 2, 3] (spaces around the ids and enclosing brackets, `[1, 2, 3]`, are allowed).
func parseIDs(_ text: String, option: String) throws -> [Int] {
  var body = text.trimmingCharacters(in: .whitespaces)
  if body.hasPrefix("[") && body.hasSuffix("]") { body = String(body.dropFirst().dropLast()) }
  if body.trimmingCharacters(in: .whitespaces).isEmpty { return [] }
  let parts = body.split(separator: ",", omittingEmptySubsequences: false).map {
    $0.trimmingCharacters(in: .whitespaces)
  }
  return try parts.map { part in
    guard let id = Int(part), id >= 0 else {
      throw ValidationError("\(option): \"\(part)\" is not a non-negative integer")
    }
    return id
  }
}

/// `{"key": [n, n, ...]}` on standard output, written directly: JSONSerialization boxes every number
/// (half a second for the ids of 1 MB of text). Floats print as their shortest decimal that reads
/// back to the same Float.
func printJSONArray<T: Numeric & CustomStringConvertible>(_ key: String, _ values: [T]) {
  printJSONArrays(key, [values], nested: false)
}

/// `{"key": [[...], [...]]}` (or one flat array when `nested` is false) on standard output.
func printJSONArrays<T: Numeric & CustomStringConvertible>(_ key: String, _ rows: [[T]], nested: Bool = true) {
  var out = "{\"\(key)\": " + (nested ? "[" : "")
  out.reserveCapacity(rows.reduce(0) { $0 + $1.count } * 12)
  for (r, row) in rows.enumerated() {
    if r > 0 { out += ", " }
    out += "["
    for (i, value) in row.enumerated() {
      if i > 0 { out += ", " }
      let text = value.description
      // Swift writes non-finite Floats as nan/inf; JSON has no such numbers, Python's json reads these.
      out += text == "nan" ? "NaN" : text == "inf" ? "Infinity" : text == "-inf" ? "-Infinity" : text
    }
    out += "]"
  }
  out += (nested ? "]" : "") + "}\n"
  FileHandle.standardOutput.write(Data(out.utf8))
}

/// One JSON object on standard output, keys sorted.
func printJSON(_ object: [String: Any]) throws {
  let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
  FileHandle.standardOutput.write(data)
  FileHandle.standardOutput.write(Data("\n".utf8))
}
