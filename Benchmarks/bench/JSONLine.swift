import Awesomegrad
import Foundation

/// A JSON value for one line of `bench` output. Keys keep the order they were added in, so lines
/// read the same from run to run and match the reference scripts' output.
enum JSONValue {
  case string(String)
  case int(Int)
  case double(Double)
  case bool(Bool)
  case null

  var text: String {
    switch self {
    case .string(let s):
      let data = try! JSONSerialization.data(withJSONObject: s, options: [.fragmentsAllowed])
      return String(decoding: data, as: UTF8.self)
    case .int(let i): return String(i)
    case .double(let d): return d.isFinite ? String(format: "%.6g", d) : "null"
    case .bool(let b): return b ? "true" : "false"
    case .null: return "null"
    }
  }
}

/// One JSON object, written on one line.
struct JSONLine {
  private(set) var fields: [(key: String, value: JSONValue)] = []

  mutating func add(_ key: String, _ value: JSONValue) { fields.append((key, value)) }
  mutating func add(_ key: String, _ value: Int?) { add(key, value.map(JSONValue.int) ?? .null) }
  mutating func add(_ key: String, _ value: Double?) { add(key, value.map(JSONValue.double) ?? .null) }
  mutating func add(_ key: String, _ value: String) { add(key, .string(value)) }

  var text: String {
    "{" + fields.map { "\(JSONValue.string($0.key).text): \($0.value.text)" }.joined(separator: ", ") + "}"
  }
}

extension JSONLine {
  /// The keys that say which BLAS ran the workload: the OpenBLAS version and config string, the
  /// kernel ("core"), its threads, and what the library did about OpenBLAS's choice of kernel.
  mutating func addBLASBackend(_ backend: BLASBackend) {
    add("blas_version", backend.version)
    add("blas_core", backend.coreName)
    add("blas_config", backend.config)
    add("blas_threads", backend.threads)
    add("blas_correction", backend.correction.description)
  }
}
