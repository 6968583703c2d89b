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

/// Decodes `count` floating-point elements of `dtype` from `raw` into `out`, converting to `S`
/// (rounding to nearest when F64 is read as Float; every other conversion is exact).
func decodeFloats<S: TensorScalar>(
  _ raw: UnsafeRawBufferPointer, dtype: SafeTensorsDType, count: Int, into out: UnsafeMutablePointer<S>
) {
  precondition(dtype.isFloatingPoint && raw.count == count * dtype.byteCount, "decodeFloats: bad call")
  if S.self == Float.self {
    out.withMemoryRebound(to: Float.self, capacity: count) { decodeFloats(raw, dtype, count, $0) }
  } else if S.self == Double.self {
    out.withMemoryRebound(to: Double.self, capacity: count) { decodeFloats(raw, dtype, count, $0) }
  } else {
    let doubles = UnsafeMutablePointer<Double>.allocate(capacity: count)
    defer { doubles.deallocate() }
    decodeFloats(raw, dtype, count, doubles)
    for i in 0..<count { out[i] = S(doubles[i]) }
  }
}

private func decodeFloats(
  _ raw: UnsafeRawBufferPointer, _ dtype: SafeTensorsDType, _ count: Int, _ out: UnsafeMutablePointer<Float>
) {
  switch dtype {
  case .F32:
    for i in 0..<count {
      out[i] = Float(
        bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
    }
  case .F64:
    for i in 0..<count {
      out[i] = Float(
        Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
    }
  case .F16:
    for i in 0..<count {
      out[i] = floatFromHalf(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
    }
  case .BF16:
    for i in 0..<count {
      out[i] = floatFromBFloat16(
        UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
    }
  default: preconditionFailure("decodeFloats: \(dtype) is not a float type")
  }
}

private func decodeFloats(
  _ raw: UnsafeRawBufferPointer, _ dtype: SafeTensorsDType, _ count: Int, _ out: UnsafeMutablePointer<Double>
) {
  switch dtype {
  case .F64:
    for i in 0..<count {
      out[i] = Double(
        bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))
    }
  case .F32, .F16, .BF16:
    // Through Float, which holds every F16/BF16 value exactly; Float → Double is exact.
    let floats = UnsafeMutablePointer<Float>.allocate(capacity: count)
    defer { floats.deallocate() }
    decodeFloats(raw, dtype, count, floats)
    for i in 0..<count { out[i] = Double(floats[i]) }
  default: preconditionFailure("decodeFloats: \(dtype) is not a float type")
  }
}

/// Decodes `count` integer elements of `dtype` (sign-extending signed types) into `Int64`s.
func decodeIntegers(_ raw: UnsafeRawBufferPointer, dtype: SafeTensorsDType, count: Int) -> [Int64] {
  precondition(dtype.isInteger && raw.count == count * dtype.byteCount, "decodeIntegers: bad call")
  return [Int64](unsafeUninitializedCapacity: count) { out, initialized in
    switch dtype {
    case .I64:
      for i in 0..<count {
        out[i] = Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))
      }
    case .I32:
      for i in 0..<count {
        out[i] = Int64(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
      }
    case .I16:
      for i in 0..<count {
        out[i] = Int64(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self)))
      }
    case .I8:
      for i in 0..<count { out[i] = Int64(Int8(bitPattern: raw[i])) }
    case .U8:
      for i in 0..<count { out[i] = Int64(raw[i]) }
    default: preconditionFailure("decodeIntegers: \(dtype) is not an integer type")
    }
    initialized = count
  }
}
