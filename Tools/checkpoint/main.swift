import ArgumentParser
import Awesomegrad
import Foundation

/// `checkpoint inspect FILE [--json]` and `checkpoint convert IN OUT`: look into safetensors files
/// and rewrite them with this library's writer.
struct CheckpointCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "checkpoint",
    abstract: "Inspect and convert safetensors checkpoints.",
    subcommands: [Inspect.self, Convert.self])
}

/// Prints `error` as the one line that names the problem, and exits with status 1.
func fail(_ error: CheckpointError) -> ExitCode {
  FileHandle.standardError.write(Data("checkpoint: \(error.description)\n".utf8))
  return ExitCode(1)
}

struct Inspect: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List each tensor (name, dtype, shape, count, min/max/mean) and the metadata.",
    discussion: """
      With --json, print one object {"metadata": {...}, "tensors": {name: {"dtype", "shape", "values"}}} \
      with the values as numbers in row-major order (floats exactly, as the shortest decimal that reads \
      back to the same value; BOOL as 0 and 1; NaN and infinities as NaN, Infinity, -Infinity, as \
      Python's json module writes them). A malformed file prints one line naming the problem and \
      exits with status 1.
      """)

  @Argument(help: "The safetensors file.")
  var file: String

  @Flag(help: "Print the values as JSON instead of the table.")
  var json = false

  func run() throws {
    do {
      let checkpoint = try SafeTensorsFile(contentsOf: file)
      print(json ? try jsonReport(checkpoint) : try table(checkpoint))
    } catch {
      throw fail(error)
    }
  }

  func table(_ file: SafeTensorsFile) throws(CheckpointError) -> String {
    var lines = [
      "\(file.path): \(file.entries.count) tensors, \(file.dataLength) data bytes, header \(file.headerLength) bytes"
    ]
    lines.append(file.metadata.isEmpty ? "metadata: none" : "metadata:")
    for key in file.metadata.keys.sorted() { lines.append("  \(key) = \(file.metadata[key]!)") }
    var rows = [["name", "dtype", "shape", "count", "min", "max", "mean"]]
    for name in file.names {
      let entry = file.entries[name]!
      let values = try file.doubles(name).values
      // One pass: min and max over the non-NaN values, the mean over all (NaN if any is NaN).
      var low = Double.infinity, high = -Double.infinity, sum = 0.0, seen = false
      for v in values {
        sum += v
        if !v.isNaN {
          seen = true
          low = min(low, v)
          high = max(high, v)
        }
      }
      let format = { (v: Double) in String(format: "%.6g", v) }
      let stats =
        values.isEmpty
        ? ["-", "-", "-"]
        : [seen ? format(low) : "nan", seen ? format(high) : "nan", format(sum / Double(values.count))]
      rows.append(
        [
          name, entry.dtype.rawValue, "[" + entry.shape.map(String.init).joined(separator: ", ") + "]",
          "\(entry.count)",
        ]
          + stats)
    }
    let widths = (0..<7).map { column in rows.map { $0[column].count }.max()! }
    for row in rows {
      let cells = row.enumerated().map { column, cell in
        let pad = String(repeating: " ", count: widths[column] - cell.count)
        return column == 3 ? pad + cell : cell + pad  // counts right-aligned
      }
      lines.append(
        cells.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
      )
    }
    return lines.joined(separator: "\n")
  }

  func jsonReport(_ file: SafeTensorsFile) throws(CheckpointError) -> String {
    let metadata = file.metadata.keys.sorted().map { "\(jsonString($0)): \(jsonString(file.metadata[$0]!))" }
    var tensors: [String] = []
    for name in file.names {
      let entry = file.entries[name]!
      let values: [String]
      if entry.dtype.isFloatingPoint {
        values = try file.tensor(name, as: Double.self).scalars.map(jsonNumber)
      } else if entry.dtype.isInteger {
        values = try file.integers(name).values.map { String($0) }
      } else {
        values = try file.bools(name).values.map { $0 ? "1" : "0" }
      }
      tensors.append(
        "    \(jsonString(name)): {\"dtype\": \"\(entry.dtype.rawValue)\", \"shape\": ["
          + entry.shape.map(String.init).joined(separator: ", ") + "], \"values\": ["
          + values.joined(separator: ", ") + "]}")
    }
    return "{\n  \"metadata\": {" + metadata.joined(separator: ", ") + "},\n  \"tensors\": {\n"
      + tensors.joined(separator: ",\n") + "\n  }\n}"
  }
}

struct Convert: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Read a safetensors file and write it again with this library's writer.",
    discussion: """
      F32 and F64 stay as they are, F16 and BF16 become F32 (exactly), integers become I64, BOOL \
      stays BOOL; the metadata is copied. OUT is written atomically.
      """)

  @Argument(help: "The safetensors file to read.")
  var input: String

  @Argument(help: "The safetensors file to write.")
  var output: String

  func run() throws {
    do {
      let file = try SafeTensorsFile(contentsOf: input)
      var tensors: [String: SafeTensorsWritable] = [:]
      for name in file.names {
        let entry = file.entries[name]!
        switch entry.dtype {
        case .F64: tensors[name] = SafeTensorsWritable(try file.storage(name, as: Double.self))
        case .F32, .F16, .BF16: tensors[name] = SafeTensorsWritable(try file.storage(name, as: Float.self))
        case .BOOL:
          let (shape, values) = try file.bools(name)
          tensors[name] = SafeTensorsWritable(bools: values, shape: shape)
        default:
          let (shape, values) = try file.integers(name)
          tensors[name] = SafeTensorsWritable(int64: values, shape: shape)
        }
      }
      try writeSafeTensors(tensors, metadata: file.metadata, to: output)
    } catch {
      throw fail(error)
    }
  }
}

/// `value` as a JSON number: the shortest decimal that reads back to it; NaN and infinities as
/// Python's json module writes them.
func jsonNumber(_ value: Double) -> String {
  if value.isNaN { return "NaN" }
  if value.isInfinite { return value > 0 ? "Infinity" : "-Infinity" }
  return value.description
}

/// `text` as a JSON string literal.
func jsonString(_ text: String) -> String {
  var out = "\""
  for scalar in text.unicodeScalars {
    switch scalar {
    case "\"": out += "\\\""
    case "\\": out += "\\\\"
    case "\n": out += "\\n"
    case "\r": out += "\\r"
    case "\t": out += "\\t"
    case _ where scalar.value < 0x20 || scalar == "\u{2028}" || scalar == "\u{2029}":
      let hex = String(scalar.value, radix: 16)
      out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
    default: out.unicodeScalars.append(scalar)
    }
  }
  return out + "\""
}

CheckpointCommand.main()
