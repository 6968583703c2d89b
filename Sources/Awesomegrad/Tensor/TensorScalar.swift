import Foundation

/// The element types a ``Tensor`` can hold: `Float` and `Double`.
///
/// The protocol names the elementary functions the ops need, so one generic code path serves both
/// types. Each requirement is a thin call into the C math library; hot loops call them through a
/// specialised copy of the op (see `@_specialize` on the primitives), never through a witness table.
public protocol TensorScalar: BinaryFloatingPoint, SIMDScalar, Codable, Sendable, CustomStringConvertible
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

/// `Float` tensors: libm's single-precision functions, and a vectorisable tanh.
extension Float: TensorScalar {
  @inlinable public static func exp(_ x: Float) -> Float { expf(x) }
  @inlinable public static func log(_ x: Float) -> Float { logf(x) }
  @inlinable public static func log1p(_ x: Float) -> Float { log1pf(x) }
  /// A rational approximation (see ``rationalTanh(_:)``), not libm's `tanhf`: it is pure arithmetic,
  /// so loops over it vectorise, which makes tanh layers several times faster.
  @inlinable public static func tanh(_ x: Float) -> Float { rationalTanh(x) }
  @inlinable public static func erf(_ x: Float) -> Float { erff(x) }
  @inlinable public static func pow(_ x: Float, _ y: Float) -> Float { powf(x, y) }
}

/// `Double` tensors: libm's double-precision functions.
extension Double: TensorScalar {
  @inlinable public static func exp(_ x: Double) -> Double { Foundation.exp(x) }
  @inlinable public static func log(_ x: Double) -> Double { Foundation.log(x) }
  @inlinable public static func log1p(_ x: Double) -> Double { Foundation.log1p(x) }
  @inlinable public static func tanh(_ x: Double) -> Double { Foundation.tanh(x) }
  @inlinable public static func erf(_ x: Double) -> Double { Foundation.erf(x) }
  @inlinable public static func pow(_ x: Double, _ y: Double) -> Double { Foundation.pow(x, y) }
}

extension Float {
  /// tanh x ≈ x·P(x²) / Q(x²), a minimax rational approximation of degree 13/6 on
  /// [−7.9053, 7.9053]; beyond that interval tanh x rounds to ±1 in Float, so x is clamped first.
  /// The largest error against the correctly rounded tanh is a few ulp (a test checks 1e-6),
  /// and NaN propagates; |x| < 0.0004 returns x. The coefficients are the published ones used by Eigen and XLA.
  @inlinable
  public static func rationalTanh(_ x: Float) -> Float {
    let bound: Float = 7.905_311_107_635_498_05
    let clamped = Swift.min(Swift.max(x, -bound), bound)
    let x2 = clamped * clamped
    var p: Float = -2.760_768_477_423_55e-16
    p = p * x2 + 2.000_187_904_824_77e-13
    p = p * x2 - 8.604_671_522_137_35e-11
    p = p * x2 + 5.122_297_090_371_14e-08
    p = p * x2 + 1.485_722_357_179_79e-05
    p = p * x2 + 6.372_619_288_754_36e-04
    p = p * x2 + 4.893_524_558_917_86e-03
    var q: Float = 1.198_258_394_667_02e-06
    q = q * x2 + 1.185_347_056_866_54e-04
    q = q * x2 + 2.268_434_632_439_00e-03
    q = q * x2 + 4.893_525_185_543_85e-03
    // Below 0.0004, tanh x rounds to x in Float; returning x also keeps subnormals exact.
    return abs(x) < 0.0004 ? x : clamped * p / q
  }
}
