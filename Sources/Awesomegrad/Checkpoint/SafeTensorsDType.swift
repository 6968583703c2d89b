/// The element types of a safetensors file that this library reads, by their names in the header.
///
/// Floats read into `Tensor<Float>` or `Tensor<Double>`; integers into `Int64`; `BOOL` into `Bool`.
/// Every element is stored little-endian. The writer writes `F32`, `F64`, `I64` and `BOOL`.
public enum SafeTensorsDType: String, CaseIterable, Sendable {
  /// IEEE binary64 (`torch.float64`).
  case F64
  /// IEEE binary32 (`torch.float32`).
  case F32
  /// IEEE binary16 (`torch.float16`).
  case F16
  /// bfloat16, the top half of a binary32 (`torch.bfloat16`).
  case BF16
  /// Signed integers of 64, 32, 16 and 8 bits.
  case I64, I32, I16, I8
  /// Unsigned bytes (`torch.uint8`).
  case U8
  /// One byte per element, 0 or 1 (`torch.bool`).
  case BOOL

  /// Bytes per element.
  public var byteCount: Int {
    switch self {
    case .F64, .I64: 8
    case .F32, .I32: 4
    case .F16, .BF16, .I16: 2
    case .I8, .U8, .BOOL: 1
    }
  }

  /// Whether the elements are floating-point numbers.
  public var isFloatingPoint: Bool {
    switch self {
    case .F64, .F32, .F16, .BF16: true
    default: false
    }
  }

  /// Whether the elements are integers (signed or unsigned; `BOOL` is not).
  public var isInteger: Bool {
    switch self {
    case .I64, .I32, .I16, .I8, .U8: true
    default: false
    }
  }
}

// MARK: - Decoding little-endian elements in bulk

/// IEEE half precision (1 sign, 5 exponent, 10 fraction bits) to Float, exactly.
///
/// Normal numbers rebias the exponent (15 → 127); subnormals are fraction·2⁻²⁴; infinities and NaNs
/// keep their sign and payload.
@inline(__always)
func floatFromHalf(_ bits: UInt16) -> Float {
  let sign = UInt32(bits & 0x8000) << 16
  let exponent = UInt32(bits >> 10) & 0x1F
  let fraction = UInt32(bits & 0x3FF)
  if exponent == 0 {
    let magnitude = Float(fraction) * 0x1p-24
    return sign == 0 ? magnitude : -magnitude
  }
  if exponent == 0x1F { return Float(bitPattern: sign | 0x7F80_0000 | fraction << 13) }
  return Float(bitPattern: sign | (exponent + 112) << 23 | fraction << 13)
}

/// bfloat16 (the top 16 bits of a Float) to Float, exactly.
@inline(__always)
func floatFromBFloat16(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

/// The float dtypes, so that a decoder's switch covers exactly the types it can decode: a caller
/// gets one from ``SafeTensorsDType`` (nil for an integer or BOOL dtype, which it reports as a
/// `wrongDType` error), and nothing downstream can meet another dtype.
enum FloatEncoding {
  case f64, f32, f16, bf16

  /// The encoding of `dtype`, or nil when it is not a float type.
  init?(_ dtype: SafeTensorsDType) {
    switch dtype {
    case .F64: self = .f64
    case .F32: self = .f32
    case .F16: self = .f16
    case .BF16: self = .bf16
    case .I64, .I32, .I16, .I8, .U8, .BOOL: return nil
    }
  }

  /// Bytes per element.
  var byteCount: Int {
    switch self {
    case .f64: 8
    case .f32: 4
    case .f16, .bf16: 2
    }
  }
}

/// The integer dtypes (see ``FloatEncoding``).
enum IntegerEncoding {
  case i64, i32, i16, i8, u8

  /// The encoding of `dtype`, or nil when it is not an integer type.
  init?(_ dtype: SafeTensorsDType) {
    switch dtype {
    case .I64: self = .i64
    case .I32: self = .i32
    case .I16: self = .i16
    case .I8: self = .i8
    case .U8: self = .u8
    case .F64, .F32, .F16, .BF16, .BOOL: return nil
    }
  }

  /// Bytes per element.
  var byteCount: Int {
    switch self {
    case .i64: 8
    case .i32: 4
    case .i16: 2
    case .i8, .u8: 1
    }
  }
}

/// Decodes the elements of `raw` (`raw.count / encoding.byteCount` of them; the reader's validation
/// makes that the tensor's element count) into `out`, converting to `S` (rounding to nearest when
/// F64 is read as Float; every other conversion is exact).
func decodeFloats<S: TensorScalar>(
  _ raw: UnsafeRawBufferPointer, _ encoding: FloatEncoding, into out: UnsafeMutablePointer<S>
) {
  let count = raw.count / encoding.byteCount
  if S.self == Float.self {
    out.withMemoryRebound(to: Float.self, capacity: count) { decodeFloats(raw, encoding, count, $0) }
  } else if S.self == Double.self {
    out.withMemoryRebound(to: Double.self, capacity: count) { decodeFloats(raw, encoding, count, $0) }
  } else {
    let doubles = UnsafeMutablePointer<Double>.allocate(capacity: count)
    defer { doubles.deallocate() }
    decodeFloats(raw, encoding, count, doubles)
    for i in 0..<count { out[i] = S(doubles[i]) }
  }
}

private func decodeFloats(
  _ raw: UnsafeRawBufferPointer, _ encoding: FloatEncoding, _ count: Int, _ out: UnsafeMutablePointer<Float>
) {
  switch encoding {
  case .f32:
    for i in 0..<count {
      out[i] = Float(
        bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
    }
  case .f64:
    for i in 0..<count {
      out[i] = Float(
        Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
    }
  case .f16:
    for i in 0..<count {
      out[i] = floatFromHalf(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
    }
  case .bf16:
    for i in 0..<count {
      out[i] = floatFromBFloat16(
        UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
    }
  }
}

private func decodeFloats(
  _ raw: UnsafeRawBufferPointer, _ encoding: FloatEncoding, _ count: Int, _ out: UnsafeMutablePointer<Double>
) {
  switch encoding {
  case .f64:
    for i in 0..<count {
      out[i] = Double(
        bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))
    }
  case .f32, .f16, .bf16:
    // Through Float, which holds every F16/BF16 value exactly; Float → Double is exact.
    let floats = UnsafeMutablePointer<Float>.allocate(capacity: count)
    defer { floats.deallocate() }
    decodeFloats(raw, encoding, count, floats)
    for i in 0..<count { out[i] = Double(floats[i]) }
  }
}

/// Decodes the elements of `raw` (`raw.count / encoding.byteCount` of them), sign-extending signed
/// types, into `Int64`s.
func decodeIntegers(_ raw: UnsafeRawBufferPointer, _ encoding: IntegerEncoding) -> [Int64] {
  let count = raw.count / encoding.byteCount
  return [Int64](unsafeUninitializedCapacity: count) { out, initialized in
    switch encoding {
    case .i64:
      for i in 0..<count {
        out[i] = Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))
      }
    case .i32:
      for i in 0..<count {
        out[i] = Int64(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
      }
    case .i16:
      for i in 0..<count {
        out[i] = Int64(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self)))
      }
    case .i8:
      for i in 0..<count { out[i] = Int64(Int8(bitPattern: raw[i])) }
    case .u8:
      for i in 0..<count { out[i] = Int64(raw[i]) }
    }
    initialized = count
  }
}
