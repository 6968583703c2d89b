import Foundation
import RealModule

/// The element types a ``Tensor`` can hold: `Float` and `Double`.
///
/// The elementary functions the ops need (`exp`, `log`, `log(onePlus:)`, `tanh`, `erf`, `pow`) come
/// from swift-numerics' `Real`, so one generic code path serves both types and the library adds no
/// public members to `Float` or `Double`: `import RealModule` beside `import Awesomegrad` is
/// unambiguous. Hot loops call them through a specialised copy of the op (see `@_specialize` on the
/// primitives), never through a witness table.
public protocol TensorScalar: Real, BinaryFloatingPoint, SIMDScalar, Codable, Sendable, CustomStringConvertible
where RawSignificand: FixedWidthInteger {}

/// `Float` tensors: RealModule's single-precision functions (libm's), and, inside the engine's
/// loops, a vectorisable tanh (`vectorizableTanh`).
extension Float: TensorScalar {}

/// `Double` tensors: RealModule's double-precision functions (libm's).
extension Double: TensorScalar {}

extension TensorScalar {
  /// tanh as the engine's loops compute it: in `Float` the rational approximation
  /// (`Float.rationalTanh`), which is pure arithmetic, so loops over it vectorise and tanh layers
  /// run several times faster; in `Double` libm's. The type test folds away in the specialised ops.
  @inlinable @inline(__always)
  static func vectorizableTanh(_ x: Self) -> Self {
    if Self.self == Float.self {
      return unsafeBitCast(Float.rationalTanh(unsafeBitCast(x, to: Float.self)), to: Self.self)
    }
    return tanh(x)
  }

  /// xʸ as C's `pow`: a negative base with an integral exponent has its value, (−2)³ = −8, as in
  /// PyTorch; RealModule's `pow(_:_:)` is NaN for every negative base.
  @inlinable @inline(__always)
  static func cPow(_ x: Self, _ y: Self) -> Self {
    if Self.self == Float.self {
      return unsafeBitCast(powf(unsafeBitCast(x, to: Float.self), unsafeBitCast(y, to: Float.self)), to: Self.self)
    }
    return unsafeBitCast(Foundation.pow(unsafeBitCast(x, to: Double.self), unsafeBitCast(y, to: Double.self)), to: Self.self)
  }
}

extension Float {
  /// tanh x ≈ x·P(x²) / Q(x²), a minimax rational approximation of degree 13/6 on
  /// [−7.9053, 7.9053]; beyond that interval tanh x rounds to ±1 in Float, so x is clamped first.
  /// The largest error against the correctly rounded tanh is a few ulp (a test checks 1e-6),
  /// and NaN propagates; |x| < 0.0004 returns x. The coefficients are the published ones used by Eigen and XLA.
  @inlinable
  static func rationalTanh(_ x: Float) -> Float {
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
