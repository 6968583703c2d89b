import AwesomegradKernels

/// The exact GELU's Float kernels: erf and exp as pure arithmetic, so that the loops vectorise.
///
/// libm's `erff` and `expf` are calls the compiler cannot vectorise; through them the exact GELU took
/// a quarter of a char-lm training step (perf: `exactGELU` 15%, `erff` 6%, `expf` 3%). Double keeps
/// libm (the conformance fixtures check it to 1e-9). The scalar functions below are the definition;
/// the loops run them in C, compiled for AVX-512 or AVX2 where the CPU has it (``VectorKernels``):
/// in Swift, compiled for the baseline x86-64, they took 10% of the `charlm` step.
extension Float {
  /// erf x ≈ x·P(x²) / Q(x²) on [−4, 4] (a rational approximation of degree 13/8 with the published
  /// coefficients of Eigen and XLA), ±1 beyond, where erf x rounds to ±1 in Float. The absolute error
  /// is below 5·10⁻⁷ (7 ulp of 1; the largest, 4.2·10⁻⁷, near ±3.3) on the whole line (a test checks
  /// it against libm's Double erf); NaN propagates.
  @inlinable
  static func rationalErf(_ x: Float) -> Float {
    let clamped = Swift.min(Swift.max(x, -4), 4)
    let x2 = clamped * clamped
    var p: Float = -2.726_142_258_013_06e-10
    p = p * x2 + 2.770_681_424_959_02e-08
    p = p * x2 - 2.101_024_020_825_08e-06
    p = p * x2 - 5.692_506_394_623_46e-05
    p = p * x2 - 7.349_906_303_268_55e-04
    p = p * x2 - 2.954_599_808_540_25e-03
    p = p * x2 - 1.609_603_332_624_15e-02
    var q: Float = -1.456_607_184_649_96e-05
    q = q * x2 - 2.133_740_552_789_05e-04
    q = q * x2 - 1.682_826_974_382_03e-03
    q = q * x2 - 7.373_329_167_204_68e-03
    q = q * x2 - 1.426_473_905_141_89e-02
    // Near ±4 the rational function overshoots ±1 by an ulp; clamping keeps |erf| ≤ 1, so
    // GELU(x) = ½x(1 + erf(x/√2)) is exactly 0 for very negative x, as PyTorch's.
    return Swift.min(Swift.max(clamped * p / q, -1), 1)
  }

  /// eˣ for x ≤ 0 (positive x are taken as 0) in pure arithmetic: x = n·ln 2 + r with n = round(x/ln 2) (by adding and removing
  /// 1.5·2²³) and |r| ≤ ½ln 2, eʳ by Cephes' `expf` polynomial, 2ⁿ from the exponent bits. Below −87
  /// (e⁻⁸⁷ ≈ 1.6·10⁻³⁸, near the smallest normal Float) the result is 0. The relative error is a few
  /// ulp (a test checks it against libm).
  @inlinable
  static func nonPositiveExp(_ x: Float) -> Float {
    let a = Swift.max(Swift.min(x, 0), -87)
    let shifter: Float = 12_582_912  // 1.5·2²³: adding it rounds to an integer in the low bits
    let t = a * 1.442_695_040_888_963_4 + shifter
    let n = t - shifter
    let r = a - n * 0.693_359_375 + n * 2.121_944_4e-4  // a − n·ln 2, ln 2 in two parts
    var p: Float = 1.987_569_150_0e-4
    p = p * r + 1.398_199_950_7e-3
    p = p * r + 8.333_451_907_3e-3
    p = p * r + 4.166_579_589_4e-2
    p = p * r + 1.666_666_545_9e-1
    p = p * r + 5.000_000_120_1e-1
    let er = p * r * r + r + 1
    // t's low mantissa bits hold n + 2²² (two's complement for negative n): 2ⁿ = (n + 127) << 23.
    let scale = Float(bitPattern: (t.bitPattern &- 0x4B40_0000 &+ 127) &<< 23)
    return x < -87 ? 0 : er * scale  // NaN stays NaN through r
  }
}
