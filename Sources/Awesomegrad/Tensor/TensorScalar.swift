import Foundation

/// The element types a ``Tensor`` can hold: `Float` and `Double`.
///
/// The protocol names the elementary functions the ops need, so one generic code path serves both
/// types. Each requirement is a thin call into the C math library; hot loops call them through a
/// specialised copy of the op (see `@_specialize` on the primitives), never through a witness table.
public protocol TensorScalar: BinaryFloatingPoint, Sendable, CustomStringConvertible
where RawSignificand: FixedWidthInteger {
  /// eˣ
  static func exp(_ x: Self) -> Self
  /// ln x
  static func log(_ x: Self) -> Self
  /// ln(1 + x), accurate for small x.
  static func log1p(_ x: Self) -> Self
  /// tanh x
  static func tanh(_ x: Self) -> Self
  /// The Gauss error function, erf x = 2/√π ∫₀ˣ e^(−t²) dt.
  static func erf(_ x: Self) -> Self
  /// xʸ
  static func pow(_ x: Self, _ y: Self) -> Self
}

extension Float: TensorScalar {
  @inlinable public static func exp(_ x: Float) -> Float { expf(x) }
  @inlinable public static func log(_ x: Float) -> Float { logf(x) }
  @inlinable public static func log1p(_ x: Float) -> Float { log1pf(x) }
  @inlinable public static func tanh(_ x: Float) -> Float { tanhf(x) }
  @inlinable public static func erf(_ x: Float) -> Float { erff(x) }
  @inlinable public static func pow(_ x: Float, _ y: Float) -> Float { powf(x, y) }
}

extension Double: TensorScalar {
  @inlinable public static func exp(_ x: Double) -> Double { Foundation.exp(x) }
  @inlinable public static func log(_ x: Double) -> Double { Foundation.log(x) }
  @inlinable public static func log1p(_ x: Double) -> Double { Foundation.log1p(x) }
  @inlinable public static func tanh(_ x: Double) -> Double { Foundation.tanh(x) }
  @inlinable public static func erf(_ x: Double) -> Double { Foundation.erf(x) }
  @inlinable public static func pow(_ x: Double, _ y: Double) -> Double { Foundation.pow(x, y) }
}
