import Testing

@testable import Awesomegrad

/// Bad arguments to the safetensors writer stop through `argumentFailure`, naming the function, the
/// counts and the caller's file and line, in release builds too (a `precondition`'s message is
/// dropped there and named the library's line); a shape whose product overflows says so instead of
/// trapping in the multiplication. The readers never trap: every dtype decodes through its own
/// accessor, and the others throw `wrongDType`.
@Suite struct SafeTensorsArgumentTests {
  static func standardError(_ result: ExitTest.Result?) -> String {
    String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
  }

  /// Three values cannot fill a [2, 2] tensor.
  @Test func int64ValuesThatDoNotFillTheShape() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = SafeTensorsWritable(int64: [1, 2, 3], shape: [2, 2])
    }
    let message = Self.standardError(result)
    #expect(
      message.contains("SafeTensorsWritable(int64:shape:): 3 values do not fill shape [2, 2]"), "\(message)")
    #expect(message.contains("SafeTensorsArgumentTests.swift:"), "\(message)")
  }

  @Test func boolValuesThatDoNotFillTheShape() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = SafeTensorsWritable(bools: [true], shape: [3])
    }
    let message = Self.standardError(result)
    #expect(
      message.contains("SafeTensorsWritable(bools:shape:): 1 values do not fill shape [3]"), "\(message)")
    #expect(message.contains("SafeTensorsArgumentTests.swift:"), "\(message)")
  }

  /// 2³² · 2³² overflows Int: the product used to trap in the multiplication, without a message.
  @Test func anOverflowingShapeIsNamed() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = SafeTensorsWritable(int64: [], shape: [1 << 32, 1 << 32])
    }
    let message = Self.standardError(result)
    #expect(
      message.contains(
        "SafeTensorsWritable(int64:shape:): 0 values do not fill shape [4294967296, 4294967296]"),
      "\(message)")
  }

  @Test func aNegativeSizeIsNamed() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = SafeTensorsWritable(bools: [], shape: [-1])
    }
    let message = Self.standardError(result)
    #expect(
      message.contains("SafeTensorsWritable(bools:shape:): shape [-1] has a negative size"), "\(message)")
  }

  /// One tensor of every dtype, written as raw little-endian bytes: 1 and −2 (or true, false).
  /// Each reads through its own accessor, and every other accessor throws `wrongDType`, never traps.
  @Test func everyDTypeDecodesThroughItsAccessorOnly() throws {
    let bytes: [SafeTensorsDType: [UInt8]] = [
      .F64: [0, 0, 0, 0, 0, 0, 0xF0, 0x3F, 0, 0, 0, 0, 0, 0, 0, 0xC0],
      .F32: [0, 0, 0x80, 0x3F, 0, 0, 0, 0xC0],
      .F16: [0, 0x3C, 0, 0xC0],
      .BF16: [0x80, 0x3F, 0, 0xC0],
      .I64: [1, 0, 0, 0, 0, 0, 0, 0, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
      .I32: [1, 0, 0, 0, 0xFE, 0xFF, 0xFF, 0xFF],
      .I16: [1, 0, 0xFE, 0xFF],
      .I8: [1, 0xFE],
      .U8: [1, 254],
      .BOOL: [1, 0],
    ]
    #expect(Set(bytes.keys) == Set(SafeTensorsDType.allCases))
    for (dtype, data) in bytes {
      let header = #"{"t":{"dtype":"\#(dtype.rawValue)","shape":[2],"data_offsets":[0,\#(data.count)]}}"#
      let file = try SafeTensorsFile(bytes: safeTensorsBytes(header: header, data: data))
      func isWrongDType(_ body: () throws -> Void) -> Bool {
        do {
          try body()
          return false
        } catch CheckpointError.wrongDType { return true } catch { return false }
      }
      if dtype.isFloatingPoint {
        #expect(try file.tensor("t", as: Float.self).scalars == [1, -2], "\(dtype)")
        #expect(try file.tensor("t", as: Double.self).scalars == [1, -2], "\(dtype)")
      } else {
        #expect(isWrongDType { _ = try file.tensor("t", as: Float.self) }, "\(dtype)")
      }
      if dtype.isInteger {
        #expect(try file.integers("t").values == [1, dtype == .U8 ? 254 : -2], "\(dtype)")
      } else {
        #expect(isWrongDType { _ = try file.integers("t") }, "\(dtype)")
      }
      if dtype == .BOOL {
        #expect(try file.bools("t").values == [true, false])
      } else {
        #expect(isWrongDType { _ = try file.bools("t") }, "\(dtype)")
      }
    }
  }
}
