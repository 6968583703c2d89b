import Foundation
import Testing

@testable import Awesomegrad

/// Float tensors' tanh is a rational approximation, `Float.rationalTanh` (internal; so tanh layers
/// vectorise), while `Float.tanh` is RealModule's libm tanh; these tests bound the approximation's error
/// against the Double-precision libm tanh.
@Suite struct RationalTanhTests {
  /// 240,001 points 1e-4 apart across [−12, 12]: |approx − tanh(x)| ≤ 1e-6 (a few ulp near ±1).
  @Test func closeToLibmOverTheWholeRange() {
    var worst = 0.0
    for i in 0...240_000 {
      let x = Float(-12 + Double(i) * 1e-4)
      worst = max(worst, abs(Double(Float.rationalTanh(x)) - Foundation.tanh(Double(x))))
    }
    #expect(worst <= 1e-6, "largest error \(worst)")
  }

  /// tanh x = x to Float precision for tiny x, tanh(±∞) = ±1, tanh(NaN) = NaN, tanh is odd.
  @Test func edgeCases() {
    #expect(Float.rationalTanh(1e-30) == 1e-30)
    #expect(Float.rationalTanh(.leastNonzeroMagnitude) == .leastNonzeroMagnitude)
    #expect(Float.rationalTanh(0) == 0)
    #expect(Float.rationalTanh(.infinity) == 1)
    #expect(Float.rationalTanh(-.infinity) == -1)
    #expect(Float.rationalTanh(.nan).isNaN)
    #expect(Float.rationalTanh(-0.75) == -Float.rationalTanh(0.75))
  }
}
