import Foundation
import Testing

@testable import Awesomegrad

/// The path of a fixture under Fixtures/safetensors (`name` may include a subfolder).
func safeTensorsFixture(_ name: String) throws -> String {
  let url = try #require(
    Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures/safetensors"))
  return url.path
}

/// A safetensors file from a header string and data bytes, the header length taken as given.
func safeTensorsBytes(header: String, length: UInt64? = nil, data: [UInt8] = []) -> [UInt8] {
  let headerBytes = Array(header.utf8)
  let n = length ?? UInt64(headerBytes.count)
  return (0..<8).map { UInt8(truncatingIfNeeded: n >> (8 * UInt64($0))) } + headerBytes + data
}

@Suite struct SafeTensorsReadTests {
  /// tensors.safetensors was written by PyTorch with the reference `safetensors` package;
  /// tensors.json holds the same values, printed by Python (see Fixtures/SOURCES.md). Every dtype,
  /// a rank-0 tensor and an empty one read with exactly those values.
  @Test func fixtureMatchesItsJSON() throws {
    // Foundation's JSONSerialization on Linux rounds some decimals to a neighbouring Double
    // (1.5409960746765137 reads as 1.5409960746765132), so every number is quoted first (in this
    // file, indented by Python's json.dump, each sits alone on its line) and then read with
    // Double(String), which rounds correctly.
    let text = try String(contentsOfFile: safeTensorsFixture("tensors.json"), encoding: .utf8)
    let quoted = text.replacingOccurrences(
      of: #"(?m)^(\s*)(-?[0-9][0-9.eE+-]*)(,?)$"#, with: "$1\"$2\"$3", options: .regularExpression)
    let json = try #require(try JSONSerialization.jsonObject(with: Data(quoted.utf8)) as? [String: Any])
    let expectedTensors = try #require(json["tensors"] as? [String: [String: Any]])
    let file = try SafeTensorsFile(contentsOf: safeTensorsFixture("tensors.safetensors"))

    #expect(file.metadata == (json["metadata"] as? [String: String]))
    #expect(Set(file.names) == Set(expectedTensors.keys))
    #expect(
      Set(expectedTensors.values.map { $0["dtype"] as! String })
        == Set(SafeTensorsDType.allCases.map(\.rawValue)))
    for (name, expected) in expectedTensors {
      let shape = try #require(expected["shape"] as? [String]).map { Int($0)! }
      let values = try #require(expected["values"] as? [String]).map { Double($0)! }
      let entry = try file.entry(name)
      #expect(entry.dtype.rawValue == expected["dtype"] as? String, "\(name)")
      #expect(entry.shape == shape, "\(name)")
      #expect(entry.count == values.count, "\(name)")
      switch entry.dtype {
      case .F64:
        #expect(try file.tensor(name, as: Double.self).scalars == values, "\(name)")
      case .F32, .F16, .BF16:
        // Each value is a Float (a Python float printed from it), so the Float read must equal it
        // exactly, and so must the Double read (every F32/F16/BF16 value is exact in Double).
        let floats = try file.tensor(name, as: Float.self)
        #expect(floats.shape == shape)
        #expect(floats.scalars.map(Double.init) == values, "\(name)")
        #expect(try file.tensor(name, as: Double.self).scalars == values, "\(name)")
      case .I64, .I32, .I16, .I8, .U8:
        let integers = try file.integers(name)
        #expect(integers.shape == shape)
        #expect(integers.values == values.map { Int64($0) }, "\(name)")
      case .BOOL:
        #expect(try file.bools(name).values == values.map { $0 == 1 }, "\(name)")
      }
    }
    // The spot values: rank 0 and empty.
    #expect(try file.tensor("scalar.f32", as: Float.self).shape == [])
    #expect(try file.tensor("scalar.f32", as: Float.self).scalars == [3.25])
    #expect(try file.tensor("empty.f32", as: Double.self).shape == [0, 4])
    #expect(try file.integers("steps.i64").values == [0, 1, -2, 1 << 40])
  }

  /// Every file in malformed/ (its README says what is wrong with each) is rejected with the error
  /// that names that problem. The numbers come from the files: tensors.safetensors's data is 369
  /// bytes; steps.i64 is I64 [4] (32 bytes) at [0, 32]; double.matrix follows at [32, 224].
  @Test(arguments: [
    "empty_file", "short_length", "length_past_end", "length_huge", "header_not_object", "truncated_body",
    "offsets_wrong_size", "unknown_dtype", "overlapping_offsets", "negative_dim", "shape_overflow",
    "offsets_reversed", "missing_dtype", "trailing_bytes",
  ])
  func malformedFileIsRejected(name: String) throws {
    let p = try safeTensorsFixture("malformed/\(name).safetensors")
    let expected: CheckpointError =
      switch name {
      case "empty_file": .headerTooSmall(path: p, fileSize: 0)
      case "short_length": .headerTooSmall(path: p, fileSize: 5)
      case "length_past_end": .headerPastEnd(path: p, length: 1329, fileSize: 1329)
      case "length_huge": .headerTooLarge(path: p, length: 9_223_372_036_854_775_813)
      case "header_not_object": .headerNotObject(path: p, found: "array")
      case "truncated_body": .bytesMissing(path: p, expected: 369, actual: 1322 - 8 - 952)
      case "offsets_wrong_size":
        .sizeMismatch(
          path: p, tensor: "steps.i64", dtype: "I64", shape: [4], expectedBytes: 32, actualBytes: 36)
      case "unknown_dtype": .unknownDType(path: p, tensor: "steps.i64", dtype: "F33")
      case "overlapping_offsets":
        .offsetsOverlap(path: p, tensor: "steps.i64", other: "double.matrix", begin: 0, previousEnd: 32)
      case "negative_dim": .negativeDimension(path: p, tensor: "steps.i64", dimension: "-1")
      case "shape_overflow":
        .shapeOverflow(path: p, tensor: "steps.i64", shape: "[4611686018427387904, 4611686018427387904]")
      case "offsets_reversed": .offsetsReversed(path: p, tensor: "steps.i64", begin: 32, end: 0)
      case "missing_dtype": .invalidEntry(path: p, tensor: "steps.i64", reason: "the entry has no dtype")
      default: .bytesLeftOver(path: p, count: 1337 - 8 - 952 - 369)  // trailing_bytes
      }
    #expect(throws: expected) { try SafeTensorsFile(contentsOf: p) }
  }

  /// header_not_json: the header is `{notjson`; the message says where the JSON breaks.
  @Test func headerNotJSON() throws {
    let path = try safeTensorsFixture("malformed/header_not_json.safetensors")
    #expect(
      throws: CheckpointError.headerNotJSON(path: path, reason: "expected a member name at header byte 1")
    ) {
      try SafeTensorsFile(contentsOf: path)
    }
  }

  /// The malformed directory holds exactly the files tested above, so a new one cannot go untested.
  @Test func everyMalformedFileIsCovered() throws {
    let directory = URL(fileURLWithPath: try safeTensorsFixture("malformed/README"))
      .deletingLastPathComponent()
    let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
      .filter { $0.hasSuffix(".safetensors") }.map { String($0.dropLast(".safetensors".count)) }
    #expect(names.count == 15)
    for name in names {
      #expect(throws: CheckpointError.self, "\(name)") {
        try SafeTensorsFile(contentsOf: directory.path + "/" + name + ".safetensors")
      }
    }
  }

  // MARK: The reference reader's own test vectors (safetensors/src/tensor.rs)

  /// `test_deserialization`: I32 [2, 2] at [0, 16] over 16 zero bytes.
  @Test func referenceDeserialization() throws {
    let file = try SafeTensorsFile(
      bytes: safeTensorsBytes(
        header: #"{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}"#,
        data: .init(repeating: 0, count: 16)))
    #expect(file.names == ["test"])
    #expect(try file.integers("test") == ([2, 2], [0, 0, 0, 0]))
  }

  /// `test_empty_shapes_allowed` and `test_zero_sized_tensor`: a scalar holds one element, a
  /// [2, 0] tensor none.
  @Test func scalarsAndEmptyTensors() throws {
    let scalar = try SafeTensorsFile(
      bytes: safeTensorsBytes(
        header: #"{"test":{"dtype":"I32","shape":[],"data_offsets":[0,4]}}"#, data: [7, 0, 0, 0]))
    #expect(try scalar.integers("test") == ([], [7]))
    let empty = try SafeTensorsFile(
      bytes: safeTensorsBytes(header: #"{"test":{"dtype":"I32","shape":[2,0],"data_offsets":[0, 0]}}"#))
    #expect(try empty.integers("test") == ([2, 0], []))
  }

  /// `test_whitespace_padded_header` and `test_whitespace_leading_padded_header`: JSON whitespace
  /// around the object is allowed.
  @Test func whitespaceAroundTheHeader() throws {
    #expect(try SafeTensorsFile(bytes: safeTensorsBytes(header: "{}\r \t\n")).entries.isEmpty)
    #expect(try SafeTensorsFile(bytes: safeTensorsBytes(header: "\t\n{}\r ")).entries.isEmpty)
  }

  /// `test_header_too_small`, `test_invalid_header_length`, `test_header_too_large`,
  /// `test_invalid_header_non_utf8`, `test_invalid_header_not_json`.
  @Test func referenceHeaderErrors() {
    #expect(throws: CheckpointError.headerTooSmall(path: "<memory>", fileSize: 0)) {
      try SafeTensorsFile(bytes: [])
    }
    #expect(throws: CheckpointError.headerPastEnd(path: "<memory>", length: 60, fileSize: 8)) {
      try SafeTensorsFile(bytes: [60, 0, 0, 0, 0, 0, 0, 0])
    }
    // Length bytes 3C 00 00 00 00 FF FF FF: 0xFFFFFF000000003C.
    #expect(throws: CheckpointError.headerTooLarge(path: "<memory>", length: 0xFFFF_FF00_0000_003C)) {
      try SafeTensorsFile(bytes: [0x3C, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF] + Array("{}".utf8))
    }
    #expect(throws: CheckpointError.headerNotUTF8(path: "<memory>")) {
      try SafeTensorsFile(bytes: [1, 0, 0, 0, 0, 0, 0, 0, 0xFF])
    }
    #expect(
      throws: CheckpointError.headerNotJSON(
        path: "<memory>", reason: "the header ends inside an object at header byte 1")
    ) {
      try SafeTensorsFile(bytes: [1, 0, 0, 0, 0, 0, 0, 0] + Array("{".utf8))
    }
  }

  /// `test_invalid_info`: I32 [2, 2] needs 16 bytes, the offsets give 4.
  @Test func referenceInvalidInfo() {
    #expect(
      throws: CheckpointError.sizeMismatch(
        path: "<memory>", tensor: "test", dtype: "I32", shape: [2, 2], expectedBytes: 16, actualBytes: 4)
    ) {
      try SafeTensorsFile(
        bytes: safeTensorsBytes(header: #"{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0, 4]}}"#))
    }
  }

  /// `test_validation_overflow`: [2, 2⁶⁴ − 2] does not fit; [2, 2⁶³ − 1] elements fit in no Int either.
  @Test func referenceValidationOverflow() {
    for dimension in ["18446744073709551614", "9223372036854775807"] {
      #expect(
        throws: CheckpointError.shapeOverflow(path: "<memory>", tensor: "test", shape: "[2, \(dimension)]")
      ) {
        try SafeTensorsFile(
          bytes: safeTensorsBytes(
            header: #"{"test":{"dtype":"I32","shape":[2,\#(dimension)],"data_offsets":[0,16]}}"#,
            data: .init(repeating: 0, count: 16)))
      }
    }
  }

  /// `test_json_attack`: ten tensors all at [0, 16] overlap. Sorted by name on ties, weight_0 comes
  /// first and weight_1 overlaps it.
  @Test func referenceJSONAttack() {
    let members = (0..<10).map { #""weight_\#($0)":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}"# }
    #expect(
      throws: CheckpointError.offsetsOverlap(
        path: "<memory>", tensor: "weight_1", other: "weight_0", begin: 0, previousEnd: 16)
    ) {
      try SafeTensorsFile(
        bytes: safeTensorsBytes(
          header: "{" + members.joined(separator: ",") + "}", data: .init(repeating: 0, count: 16)))
    }
  }

  /// `test_metadata_incomplete_buffer`: extra bytes after the data, and 2 bytes missing.
  @Test func referenceIncompleteBuffer() {
    let header = #"{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}"#
    #expect(throws: CheckpointError.bytesLeftOver(path: "<memory>", count: 34)) {
      try SafeTensorsFile(
        bytes: safeTensorsBytes(
          header: header,
          data: .init(repeating: 0, count: 16) + Array("extra_bogus_data_for_polyglot_file".utf8)))
    }
    #expect(throws: CheckpointError.bytesMissing(path: "<memory>", expected: 16, actual: 14)) {
      try SafeTensorsFile(bytes: safeTensorsBytes(header: header, data: .init(repeating: 0, count: 14)))
    }
  }

  // MARK: Checks beyond the fixtures

  /// Integers above 2⁵³ are read exactly: 2⁵³ + 1 = 9007199254740993 would round to 2⁵³ through a
  /// Double. U8 [1, 2⁵³ + 1] needs 2⁵³ + 1 bytes, and the error says so exactly.
  @Test func integersAbove2To53AreExact() {
    #expect(
      throws: CheckpointError.bytesMissing(path: "<memory>", expected: 9_007_199_254_740_993, actual: 0)
    ) {
      try SafeTensorsFile(
        bytes: safeTensorsBytes(
          header: #"{"t":{"dtype":"U8","shape":[1,9007199254740993],"data_offsets":[0,9007199254740993]}}"#))
    }
  }

  /// A zero size makes the count 0, but the other sizes must still multiply within an Int, or
  /// strides computed from the shape would overflow (the IDX bug, here refused up front).
  @Test func zeroDimensionDoesNotHideOverflow() {
    #expect(
      throws: CheckpointError.shapeOverflow(
        path: "<memory>", tensor: "t", shape: "[0, 4611686018427387904, 4611686018427387904]")
    ) {
      try SafeTensorsFile(
        bytes: safeTensorsBytes(
          header:
            #"{"t":{"dtype":"F32","shape":[0,4611686018427387904,4611686018427387904],"data_offsets":[0,0]}}"#
        ))
    }
  }

  /// Header shapes that are JSON but not what the format allows.
  @Test(arguments: [
    (#"{"t":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}}"#, "shape[0] = 2.0 is not an integer"),
    (#"{"t":{"dtype":"F32","shape":"2","data_offsets":[0,8]}}"#, "shape is a string, not an array"),
    (#"{"t":{"dtype":"F32","data_offsets":[0,8]}}"#, "the entry has no shape"),
    (#"{"t":{"dtype":"F32","shape":[2]}}"#, "the entry has no data_offsets"),
    (
      #"{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8,9]}}"#,
      "data_offsets is not an array of two integers"
    ),
    (#"{"t":{"dtype":"F32","shape":[2],"data_offsets":[-1,8]}}"#, "data_offsets[0] = -1 is negative"),
    (#"{"t":{"dtype":7,"shape":[2],"data_offsets":[0,8]}}"#, "dtype is a number, not a string"),
    (#"{"t":[1]}"#, "the entry is a array, not an object"),
    (
      #"{"t":{"dtype":"F32","dtype":"F64","shape":[2],"data_offsets":[0,8]}}"#,
      "the field dtype appears twice"
    ),
  ])
  func invalidEntries(header: String, reason: String) {
    #expect(throws: CheckpointError.invalidEntry(path: "<memory>", tensor: "t", reason: reason)) {
      try SafeTensorsFile(bytes: safeTensorsBytes(header: header, data: .init(repeating: 0, count: 8)))
    }
  }

  @Test func metadataAndNamesAreChecked() throws {
    #expect(
      throws: CheckpointError.invalidMetadata(
        path: "<memory>", reason: "the value of \"seed\" is a number, not a string")
    ) {
      try SafeTensorsFile(bytes: safeTensorsBytes(header: #"{"__metadata__":{"seed":0}}"#))
    }
    #expect(throws: CheckpointError.duplicateTensor(path: "<memory>", tensor: "t")) {
      try SafeTensorsFile(
        bytes: safeTensorsBytes(
          header:
            #"{"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"t":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}"#,
          data: [0, 0]))
    }
    // A null __metadata__ is no metadata, as in the reference reader.
    #expect(try SafeTensorsFile(bytes: safeTensorsBytes(header: #"{"__metadata__":null}"#)).metadata == [:])
  }

  /// A gap between two tensors: u8 at [0, 1], v at [2, 3].
  @Test func gapIsReported() {
    #expect(throws: CheckpointError.offsetsGap(path: "<memory>", tensor: "v", begin: 2, previousEnd: 1)) {
      try SafeTensorsFile(
        bytes: safeTensorsBytes(
          header:
            #"{"u":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"v":{"dtype":"U8","shape":[1],"data_offsets":[2,3]}}"#,
          data: [0, 0, 0]))
    }
  }

  /// Deep nesting, lone surrogates, control characters and trailing text are not JSON.
  @Test(arguments: [
    String(repeating: "[", count: 10_000), #"{"\ud800":1}"#, "{\"a\u{1}\":1}", "{} x", "{\"a\":tru}",
    "{\"a\":01}", "{\"a\":1.}", "{\"a\":-}", "{\"a\":\"\\x\"}",
  ])
  func notJSON(header: String) {
    #expect {
      try SafeTensorsFile(bytes: safeTensorsBytes(header: header))
    } throws: { error in
      if case .headerNotJSON = error as? CheckpointError { true } else { false }
    }
  }

  /// JSON escapes in names and metadata decode: \u00e9 is é, \ud83d\ude00 is U+1F600.
  @Test func escapesDecode() throws {
    let file = try SafeTensorsFile(
      bytes: safeTensorsBytes(
        header:
          #"{"__metadata__":{"k\"\\\/\n":"caf\u00e9 \ud83d\ude00"},"x\ty":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}}"#,
        data: [1, 0]))
    #expect(file.metadata == ["k\"\\/\n": "café 😀"])
    #expect(try file.bools("x\ty") == ([2], [true, false]))
  }

  /// Reading a tensor as the wrong kind, a missing name, and a BOOL byte that is not 0 or 1.
  @Test func accessErrors() throws {
    let file = try SafeTensorsFile(
      bytes: safeTensorsBytes(
        header: #"{"b":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]}}"#, data: [1, 0, 2]))
    #expect(throws: CheckpointError.invalidBool(path: "<memory>", tensor: "b", index: 2, byte: 2)) {
      try file.bools("b")
    }
    #expect(
      throws: CheckpointError.wrongDType(
        path: "<memory>", tensor: "b", dtype: "BOOL", wanted: "a float tensor")
    ) {
      try file.tensor("b", as: Float.self)
    }
    #expect(
      throws: CheckpointError.wrongDType(
        path: "<memory>", tensor: "b", dtype: "BOOL", wanted: "an integer tensor")
    ) {
      try file.integers("b")
    }
    #expect(throws: CheckpointError.tensorNotFound(path: "<memory>", tensor: "c")) { try file.entry("c") }
  }

  /// Error messages are one line even when a name read from the file holds a newline or a quote,
  /// so `checkpoint inspect` prints exactly one line for a malformed file.
  @Test func messagesAreOneLine() {
    #expect {
      try SafeTensorsFile(
        bytes: safeTensorsBytes(header: #"{"a\nb\"":{"dtype":"X","shape":[],"data_offsets":[0,0]}}"#))
    } throws: { error in
      (error as? CheckpointError)?.description
        == #"<memory>: tensor "a\nb\"": unknown dtype "X"; known: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL"#
    }
  }

  /// Half precision bit patterns (IEEE 754 binary16): 0x3C00 = 1, 0x7BFF = 65504 (the largest),
  /// 0x0001 = 2⁻²⁴ (the smallest subnormal), 0x03FF = 1023·2⁻²⁴, 0x8000 = −0, 0x7C00 = +∞,
  /// 0xFC00 = −∞, 0xC000 = −2, 0x3555 = 0.333251953125. bfloat16 0x3F80 = 1, 0xC2F7 = −123.5.
  @Test func halfAndBFloat16Conversion() {
    #expect(floatFromHalf(0x3C00) == 1)
    #expect(floatFromHalf(0x7BFF) == 65504)
    #expect(floatFromHalf(0x0001) == 0x1p-24)
    #expect(floatFromHalf(0x03FF) == 1023 * 0x1p-24)
    #expect(floatFromHalf(0x8000) == 0 && floatFromHalf(0x8000).sign == .minus)
    #expect(floatFromHalf(0x7C00) == .infinity)
    #expect(floatFromHalf(0xFC00) == -.infinity)
    #expect(floatFromHalf(0x7E00).isNaN)
    #expect(floatFromHalf(0xC000) == -2)
    #expect(floatFromHalf(0x3555) == 0.333251953125)
    #expect(floatFromBFloat16(0x3F80) == 1)
    #expect(floatFromBFloat16(0xC2F7) == -123.5)
  }
}

@Suite struct SafeTensorsWriteTests {
  /// The exact bytes of a small file: the header is the JSON below (141 bytes), padded with three
  /// spaces to 144 = 0x90, then 7 as I64 and 1.0 as F32 (00 00 80 3F): I64 comes first (widest
  /// dtype first), while the header lists the tensors by name.
  @Test func exactBytes() throws {
    let bytes = try safeTensorsBytes(
      ["w": SafeTensorsWritable(Tensor<Float>([1.0])), "step": SafeTensorsWritable(int64: [7], shape: [])],
      metadata: ["format": "pt"])
    let header =
      #"{"__metadata__":{"format":"pt"},"step":{"dtype":"I64","shape":[],"data_offsets":[0,8]},"#
      + #""w":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#
    #expect(header.utf8.count == 141)
    #expect(
      bytes == [0x90, 0, 0, 0, 0, 0, 0, 0] + Array((header + "   ").utf8) + [
        7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x3F,
      ])
  }

  /// Write then read: Float, Double, Int64 and Bool tensors of every rank keep their values bit for
  /// bit (including −0, NaN, ∞ and subnormals), and the metadata comes back.
  @Test func roundTrip() throws {
    let directory = try makeTemporaryDirectory()
    let path = directory + "/model.safetensors"
    let floats: [Float] = [
      1.5, -0.0, .nan, .infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude,
    ]
    let doubles = (0..<24).map { Double($0) * 0.1 - 1 }
    let tensors: [String: SafeTensorsWritable] = [
      "layers.0.weight": SafeTensorsWritable(Tensor<Float>(floats)),
      "double.cube": SafeTensorsWritable(Tensor<Double>(doubles).reshaped([2, 3, 4])),
      "scalar": SafeTensorsWritable(Tensor<Float>(scalar: 3.25)),
      "empty": SafeTensorsWritable(Tensor<Double>.zeros([0, 5])),
      "step": SafeTensorsWritable(int64: [Int64.min, -1, 0, Int64.max], shape: [2, 2]),
      "mask": SafeTensorsWritable(bools: [true, false, true], shape: [3]),
    ]
    let metadata = ["format": "pt", "note": "quote \" and newline \n and é"]
    try writeSafeTensors(tensors, metadata: metadata, to: path)

    let file = try SafeTensorsFile(contentsOf: path)
    #expect(file.metadata == metadata)
    #expect(Set(file.names) == Set(tensors.keys))
    #expect(
      try file.tensor("layers.0.weight", as: Float.self).scalars.map(\.bitPattern) == floats.map(\.bitPattern)
    )
    #expect(try file.tensor("double.cube", as: Double.self).scalars == doubles)
    #expect(try file.tensor("double.cube", as: Double.self).shape == [2, 3, 4])
    #expect(try file.tensor("scalar", as: Float.self).shape == [])
    #expect(try file.tensor("empty", as: Double.self).shape == [0, 5])
    #expect(try file.integers("step") == ([2, 2], [Int64.min, -1, 0, Int64.max]))
    #expect(try file.bools("mask") == ([3], [true, false, true]))
    // Header padded with spaces to a multiple of 8, every tensor aligned to its element size.
    #expect(file.headerLength % 8 == 0)
    for entry in file.entries.values { #expect(entry.byteRange.lowerBound % entry.dtype.byteCount == 0) }
    // Nothing but the file is left in the directory.
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["model.safetensors"])
  }

  /// saveSafeTensors/loadSafeTensors for a dictionary of tensors; a second save replaces the file.
  @Test func saveAndLoad() throws {
    let path = try makeTemporaryDirectory() + "/w.safetensors"
    try saveSafeTensors(["a": Tensor<Double>([1, 2, 3, 4]).reshaped([2, 2])], to: path)
    try saveSafeTensors(["b": Tensor<Double>([5, 6])], metadata: ["epoch": "2"], to: path)
    let (tensors, metadata) = try loadSafeTensors(path, as: Double.self)
    #expect(metadata == ["epoch": "2"])
    #expect(tensors.keys.sorted() == ["b"])
    #expect(tensors["b"]?.scalars == [5, 6])
  }

  /// Writing into a missing directory fails with a typed error and leaves nothing behind;
  /// "__metadata__" cannot name a tensor.
  @Test func writeErrors() throws {
    let directory = try makeTemporaryDirectory()
    #expect {
      try saveSafeTensors(["a": Tensor<Float>([1])], to: directory + "/missing/w.safetensors")
    } throws: { error in
      if case .unwritable(let path, _) = error as? CheckpointError {
        path.hasSuffix("missing/w.safetensors")
      } else {
        false
      }
    }
    #expect(
      throws: CheckpointError.unwritable(
        path: directory + "/m.safetensors", reason: "\"__metadata__\" is reserved and cannot name a tensor")
    ) {
      try saveSafeTensors(["__metadata__": Tensor<Float>([1])], to: directory + "/m.safetensors")
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
  }

  /// The writer's header limit: metadata of 100,000,000 bytes makes a header above the limit.
  @Test func headerLimitOnWrite() {
    #expect {
      try safeTensorsBytes([:], metadata: ["big": String(repeating: "a", count: 100_000_000)])
    } throws: { error in
      if case .unwritable(_, let reason) = error as? CheckpointError {
        reason.contains("limit")
      } else {
        false
      }
    }
  }
}
