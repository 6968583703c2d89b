import Foundation
import Testing

@testable import Awesomegrad
import AwesomegradKernels

/// The exact GELU's Float path computes erf and e^(−x²/2) by arithmetic that vectorises
/// (`Float.rationalErf`, `Float.nonPositiveExp`); these tests bound both against Double-precision
/// libm, and the GELU and its derivative against the Double formulas.
@Suite struct ExactGELUTests {
  /// 160,001 points 1e-4 apart across [−8, 8]: |rationalErf(x) − erf(x)| ≤ 5e-7 (the largest
  /// is 4.2e-7, near ±3.3; PyTorch's own vectorised Float erf is of this order too), and |erf| ≤ 1.
  @Test func erfCloseToLibm() {
    var worst = 0.0
    for i in 0...160_000 {
      let x = Float(-8 + Double(i) * 1e-4)
      let e = Float.rationalErf(x)
      worst = max(worst, abs(Double(e) - Foundation.erf(Double(x))))
      #expect(abs(e) <= 1, "erf(\(x)) = \(e)")
    }
    #expect(worst <= 5e-7, "largest error \(worst)")
  }

  /// erf(±∞) = ±1, erf(NaN) = NaN, erf(0) = 0, erf is odd.
  @Test func erfEdgeCases() {
    #expect(Float.rationalErf(.infinity) == 1)
    #expect(Float.rationalErf(-.infinity) == -1)
    #expect(Float.rationalErf(.nan).isNaN)
    #expect(Float.rationalErf(0) == 0)
    #expect(Float.rationalErf(-0.3) == -Float.rationalErf(0.3))
  }

  /// 87,001 points 1e-3 apart across [−87, 0]: eˣ to a relative 5e-7 (4 ulp); below −87 the result
  /// is 0; e⁰ = 1; NaN stays NaN.
  @Test func expCloseToLibm() {
    var worst = 0.0
    for i in 0...87_000 {
      let x = Float(-Double(i) * 1e-3)
      let exact = Foundation.exp(Double(x))
      worst = max(worst, abs(Double(Float.nonPositiveExp(x)) - exact) / exact)
    }
    #expect(worst <= 5e-7, "largest relative error \(worst)")
    #expect(Float.nonPositiveExp(0) == 1)
    #expect(Float.nonPositiveExp(-1000) == 0)
    #expect(Float.nonPositiveExp(-.infinity) == 0)
    #expect(Float.nonPositiveExp(.nan).isNaN)
  }

  /// GELU(x) = x·Φ(x) and GELU'(x) = Φ(x) + x·φ(x) in Float against the same formulas in Double
  /// (Φ through libm's erf), on 4001 points across [−10, 10]: within 1e-6 absolute. Far in the
  /// negative tail both are exactly 0 (GELU from x/√2 = −4 on, GELU' once x²/2 > 87), as in PyTorch.
  @Test func geluAndItsDerivativeMatchDouble() {
    let xs = (0...4000).map { Float(-10 + Double($0) * 0.005) }
    let x = Tensor<Float>(xs, shape: [xs.count], requiresGrad: true)
    let y = x.gelu()
    y.sum().backward()
    let values = y.scalars, gradients = x.grad!.scalars
    var worstValue = 0.0, worstGradient = 0.0
    for (i, xf) in xs.enumerated() {
      let v = Double(xf)
      let cdf = 0.5 * (1 + Foundation.erf(v / 2.0.squareRoot()))
      let density = Foundation.exp(-0.5 * v * v) / (2 * Double.pi).squareRoot()
      worstValue = max(worstValue, abs(Double(values[i]) - v * cdf))
      worstGradient = max(worstGradient, abs(Double(gradients[i]) - (cdf + v * density)))
    }
    #expect(worstValue <= 1e-6, "largest GELU error \(worstValue)")
    #expect(worstGradient <= 1e-6, "largest GELU' error \(worstGradient)")
    let tail = Tensor<Float>([-14, -50, -1e30], shape: [3], requiresGrad: true)
    let tailY = tail.gelu()
    tailY.sum().backward()
    #expect(tailY.scalars.allSatisfy { $0 == 0 })
    #expect(tail.grad!.scalars.allSatisfy { $0 == 0 })
  }

  /// Every build of the C kernels that this CPU runs (``VectorKernels``) does each element with the
  /// scalar functions' operations in the same order, so the forward y = ½x(1 + erf(x/√2)) and the
  /// pullback g·(Φ(x) + x·φ(x)) equal the scalar formulas bit for bit, on special values (NaN, ±∞,
  /// ±0, the clamp edges ±4·√2 and −87·2) and on 4,003 points across [−10, 10] (not a multiple of
  /// the vector width, so the remainder loops run too).
  @Test(arguments: VectorKernels.runnableHere)
  func kernelsEqualTheScalarFormulasBitForBit(_ set: VectorKernels.InstructionSet) {
    var xs: [Float] = [.nan, .infinity, -.infinity, 0, -0.0, 1e-30, -1e-30, 5.656_854, -5.656_854, -13.19, 13.19]
    xs += (0..<4003).map { Float(-10 + 20 * Double($0) / 4002) }
    let g = xs.indices.map { Float(1 + ($0 % 7)) * 0.25 }
    var y = [Float](repeating: 0, count: xs.count)
    var dx = y
    awesomegrad_gelu_exact_forward_f32(set.c, xs, &y, xs.count)
    awesomegrad_gelu_exact_backward_f32(set.c, g, xs, &dx, xs.count)
    for (i, v) in xs.enumerated() {
      let forward = 0.5 * v * (1 + Float.rationalErf(v * 0.707_106_781_186_547_6))
      let cdf = 0.5 * (1 + Float.rationalErf(v * 0.707_106_781_186_547_6))
      let density = 0.398_942_280_401_432_7 * Float.nonPositiveExp(-0.5 * v * v)
      let backward = g[i] * (cdf + v * density)
      #expect(y[i].bitPattern == forward.bitPattern, "\(set) GELU(\(v)): \(y[i]) vs \(forward)")
      #expect(dx[i].bitPattern == backward.bitPattern, "\(set) GELU'(\(v)): \(dx[i]) vs \(backward)")
    }
  }
}
