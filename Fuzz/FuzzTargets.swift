// libFuzzer targets for the readers of untrusted files. Built by scripts/fuzz (swiftc with
// -sanitize=fuzzer,address), compiled in one module with the library sources, so the targets can
// call the readers' in-memory entry points. Not part of the package build.
//
// FUZZ_TARGET chooses the target: safetensors, idx-gzip, csv, checkpoint-directory (in
// CheckpointDirectoryTarget.swift), tokenizer-json, tokenizer-text or model-config (in
// HuggingFaceTargets.swift). A target may only return or throw
// a typed error; a trap, a sanitizer report or a broken invariant (fatalError below) is a finding.

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

enum FuzzTarget: String {
  case safetensors
  case idxGzip = "idx-gzip"
  case csv
  case checkpointDirectory = "checkpoint-directory"
  case tokenizerJSON = "tokenizer-json"
  case tokenizerText = "tokenizer-text"
  case modelConfig = "model-config"

  static let current: FuzzTarget = {
    guard let name = getenv("FUZZ_TARGET").map({ String(cString: $0) }),
      let target = FuzzTarget(rawValue: name)
    else {
      print(
        "set FUZZ_TARGET to safetensors, idx-gzip, csv, checkpoint-directory, tokenizer-json, tokenizer-text "
          + "or model-config")
      exit(2)
    }
    return target
  }()
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
  switch FuzzTarget.current {
  case .safetensors: fuzzSafeTensors(bytes)
  case .idxGzip: fuzzIDXGzip(bytes)
  case .csv: fuzzCSV(bytes)
  case .checkpointDirectory: fuzzCheckpointDirectory(bytes)
  case .tokenizerJSON: fuzzTokenizerJSON(bytes)
  case .tokenizerText: fuzzTokenizerText(bytes)
  case .modelConfig: fuzzModelConfig(bytes)
  }
  return 0
}

/// Open, decode every tensor as each type it allows, and for a valid file check that writing what
/// was read and reading it again gives the same values (the writer's output must always validate).
func fuzzSafeTensors(_ bytes: [UInt8]) {
  guard let file = try? SafeTensorsFile(bytes: bytes, path: "fuzz") else { return }
  var writable: [String: SafeTensorsWritable] = [:]
  for name in file.names {
    let entry = file.entries[name]!
    if entry.dtype.isFloatingPoint {
      guard let floats = try? file.tensor(name, as: Float.self),
        let doubles = try? file.tensor(name, as: Double.self)
      else { fatalError("float tensor \(name) failed to decode") }
      precondition(floats.shape == entry.shape && floats.count == entry.count)
      writable[name] = SafeTensorsWritable(doubles)
    } else if entry.dtype.isInteger {
      guard let integers = try? file.integers(name) else {
        fatalError("integer tensor \(name) failed to decode")
      }
      precondition(integers.values.count == entry.count)
      writable[name] = SafeTensorsWritable(int64: integers.values, shape: integers.shape)
    } else if let bools = try? file.bools(name) {
      writable[name] = SafeTensorsWritable(bools: bools.values, shape: bools.shape)
    }
    _ = try? file.doubles(name)
  }
  guard let written = try? safeTensorsBytes(writable, metadata: file.metadata) else {
    fatalError("could not serialize what was read")
  }
  guard let reread = try? SafeTensorsFile(bytes: written, path: "rewritten") else {
    fatalError("the writer's output does not validate")
  }
  precondition(reread.metadata == file.metadata && Set(reread.names) == Set(writable.keys))
  for name in reread.names {
    let dtype = writable[name]!.dtype
    switch dtype {
    case .F64:
      let a = try! file.tensor(name, as: Double.self).scalars,
        b = try! reread.tensor(name, as: Double.self).scalars
      precondition(a.map(\.bitPattern) == b.map(\.bitPattern), "\(name): values changed in the round trip")
    case .I64: precondition(try! file.integers(name).values == reread.integers(name).values)
    default: precondition(try! file.bools(name).values == reread.bools(name).values)
    }
  }
}

/// gzip (when the input starts with 1f 8b) and then IDX, as IDXArray(contentsOf:) reads a file,
/// followed by what MNISTSplit computes from the shape (rows × columns).
func fuzzIDXGzip(_ bytes: [UInt8]) {
  // A small cap keeps each run fast; the cap's own path is what is being tested.
  guard
    let data = Gzip.isGzip(bytes)
      ? try? Gzip.decompress(bytes, path: "fuzz", maxDecompressedBytes: 1 << 22) : bytes
  else { return }
  guard let array = try? IDXArray(decoded: data, path: "fuzz", rank: nil) else { return }
  precondition(array.bytes.count == array.shape.reduce(1, *))
  // What users compute from a valid shape must not trap: MNISTSplit's rows × columns, and strides
  // (products of trailing sizes). Results go to `sink`, or the optimizer drops the multiplications
  // and their overflow traps with them.
  if array.shape.count == 3 { sink(array.shape[1] * array.shape[2]) }
  var product = 1
  for size in array.shape.reversed() {
    product *= size
    sink(product)
  }
}

/// Where the targets put values they compute only to check that computing them does not trap.
nonisolated(unsafe) var sinkValue = 0

@inline(never)
func sink(_ value: Int) { sinkValue &+= value }

/// CSV with the options taken from the first byte: header or not, which label column.
func fuzzCSV(_ bytes: [UInt8]) {
  guard let options = bytes.first else { return }
  let data = Array(bytes.dropFirst())
  let label: CSVTable.LabelColumn? =
    switch options & 3 {
    case 0: nil
    case 1: .index(-1)
    case 2: .index(Int(options >> 2) - 8)
    default: .name("y")
    }
  let separator: Character = options & 0x80 != 0 ? ";" : ","
  guard
    let table = try? CSVTable(
      decoded: data, path: "fuzz", hasHeader: options & 4 != 0, labelColumn: label, separator: separator)
  else { return }
  precondition(table.features.count == table.rowCount * table.featureCount)
  precondition(table.labels.isEmpty || table.labels.count == table.rowCount)
  if table.featureCount > 0 && table.rowCount < 1000 { sink(table.featureTensor(Float.self).count) }
}
