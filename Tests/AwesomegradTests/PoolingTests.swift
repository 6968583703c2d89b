import Testing

@testable import Awesomegrad

/// maxPool2d, avgPool2d and adaptiveAvgPool2d: hand-computed windows, PyTorch's tie and NaN rules,
/// gradient checks and error messages.
@Suite struct PoolingTests {
  /// 2×2 windows, stride 2, over one 2×4 plane:
  ///
  ///     x = 1 3 | 3 0      window 1: the maximum 3 is at (0,1)
  ///         0 2 | 3 1      window 2: 3 at (0,2) and (1,2) tie → the first in row-major order, (0,2)
  ///
  /// so with upstream 1, ∂x is 1 at (0,1) and at (0,2) only, as PyTorch's saved argmax does.
  @Test func maxPoolTiesGoToTheFirstMaximum() {
    let x = Tensor<Double>([1, 3, 3, 0, 0, 2, 3, 1], shape: [1, 1, 2, 4], requiresGrad: true)
    let y = maxPool2d(x, kernelSize: 2)
    #expect(y.shape == [1, 1, 1, 2])
    #expect(y.scalars == [3, 3])
    y.sum().backward()
    #expect(x.grad!.scalars == [0, 1, 1, 0, 0, 0, 0, 0])
  }

  /// A NaN in a window makes the output NaN, and the gradient goes to the window's last NaN
  /// (PyTorch updates its maximum when `v > max || isnan(v)`):
  ///
  ///     x = NaN  2 | 5 1     window 1: NaN at (0,0) and (1,1) → the last, (1,1)
  ///         7  NaN | 4 9     window 2: no NaN → 9 at (1,3)
  @Test func maxPoolNaNPropagates() {
    let nan = Double.nan
    let x = Tensor<Double>([nan, 2, 5, 1, 7, nan, 4, 9], shape: [1, 1, 2, 4], requiresGrad: true)
    let y = maxPool2d(x, kernelSize: 2)
    #expect(y.scalars[0].isNaN)
    #expect(y.scalars[1] == 9)
    y.sum().backward()
    #expect(x.grad!.scalars == [0, 0, 0, 0, 0, 1, 0, 1])
  }

  /// Padding is never the maximum: a window of −∞ (or one that overlaps only padding at its
  /// edge) takes its first pixel inside the image.
  ///
  ///     x = −∞ −∞   3×3 windows, stride 1, padding 1: every window holds all four pixels,
  ///         −∞ −∞   so each output is −∞ and its gradient goes to (0,0).
  @Test func maxPoolPaddingIsNeverTheMaximum() {
    let x = Tensor<Double>(.init(repeating: -.infinity, count: 4), shape: [1, 1, 2, 2], requiresGrad: true)
    let y = maxPool2d(x, kernelSize: 3, stride: 1, padding: 1)
    #expect(y.shape == [1, 1, 2, 2])
    #expect(y.scalars.allSatisfy { $0 == -.infinity })
    y.sum().backward()
    #expect(x.grad!.scalars == [4, 0, 0, 0])
  }

  /// x = 1…20 as a 4×5 plane; 3×3 windows, stride 2, padding 1 give a 2×3 output. The window of
  /// output (0, 0) covers rows −1…1 and columns −1…1: pixels 1, 2, 6, 7, sum 16. Counting the padding
  /// it divides by 9, otherwise by 4. The bottom-right window (rows 1…3, columns 3…5) holds
  /// 9+10+14+15+19+20 = 87 over 6 pixels; with the padding column it is 9.
  @Test func avgPoolHandComputed() {
    let x = Tensor<Double>((1...20).map(Double.init), shape: [1, 1, 4, 5])
    let sums: [Double] = [16, 33, 28, 69, 117, 87]
    let pixels: [Double] = [4, 6, 4, 6, 9, 6]
    let included = avgPool2d(x, kernelSize: 3, stride: 2, padding: 1)
    #expect(included.shape == [1, 1, 2, 3])
    for (a, s) in zip(included.scalars, sums) { #expect(abs(a - s / 9) <= 1e-15) }
    let excluded = avgPool2d(x, kernelSize: 3, stride: 2, padding: 1, countIncludePad: false)
    for (a, (s, n)) in zip(excluded.scalars, zip(sums, pixels)) { #expect(abs(a - s / n) <= 1e-15) }
  }

  /// Adaptive windows on a 4×5 plane (1…20) to 3×2: rows ⌊i·4/3⌋..<⌈(i+1)·4/3⌉ = 0..<2, 1..<3,
  /// 2..<4; columns 0..<3, 2..<5. Output (0, 0) = mean(1, 2, 3, 6, 7, 8) = 4.5.
  @Test func adaptiveAvgPoolWindows() {
    let x = Tensor<Double>((1...20).map(Double.init), shape: [1, 1, 4, 5])
    #expect(adaptiveAvgPool2d(x, outputSize: [3, 2]).scalars == [4.5, 6.5, 9.5, 11.5, 14.5, 16.5])
    // 1×1 is the global mean, (1 + 20) / 2.
    #expect(adaptiveAvgPool2d(x, outputSize: 1).scalars == [10.5])
    // 2×5 divides 4×5 exactly: means of row pairs.
    #expect(
      adaptiveAvgPool2d(x, outputSize: [2, 5]).scalars == [
        3.5, 4.5, 5.5, 6.5, 7.5, 13.5, 14.5, 15.5, 16.5, 17.5,
      ])
  }

  struct Case: CustomTestStringConvertible, Sendable {
    let name: String
    let shape: [Int]
    let f: @Sendable (Tensor<Double>) -> Tensor<Double>
    var testDescription: String { name }
  }

  static let cases: [Case] = [
    Case(name: "max 2×2", shape: [2, 3, 4, 6]) { maxPool2d($0, kernelSize: 2) },
    // Windows that tile the image leave a last row and column with no window (no gradient).
    Case(name: "max 2×2 odd sizes", shape: [1, 2, 5, 7]) { maxPool2d($0, kernelSize: 2) },
    Case(name: "max 3×2 tiles", shape: [1, 1, 7, 8]) { maxPool2d($0, kernelSize: [3, 2]) },
    Case(name: "max 3×3 stride 2 pad 1", shape: [1, 2, 7, 6]) {
      maxPool2d($0, kernelSize: 3, stride: 2, padding: 1)
    },
    Case(name: "max rectangular", shape: [1, 2, 5, 7]) {
      maxPool2d($0, kernelSize: [2, 3], stride: [1, 2])
    },
    Case(name: "avg 2×2", shape: [2, 3, 4, 6]) { avgPool2d($0, kernelSize: 2) },
    Case(name: "avg pad include", shape: [1, 2, 5, 6]) {
      avgPool2d($0, kernelSize: 3, stride: 2, padding: 1)
    },
    Case(name: "avg pad exclude", shape: [1, 2, 5, 6]) {
      avgPool2d($0, kernelSize: 3, stride: 2, padding: 1, countIncludePad: false)
    },
    Case(name: "adaptive 1×1", shape: [2, 3, 4, 5]) { adaptiveAvgPool2d($0, outputSize: 1) },
    Case(name: "adaptive divisor", shape: [1, 2, 6, 4]) { adaptiveAvgPool2d($0, outputSize: [3, 2]) },
    Case(name: "adaptive overlapping", shape: [1, 2, 5, 7]) { adaptiveAvgPool2d($0, outputSize: [3, 4]) },
  ]

  @Test(arguments: cases)
  func gradientsMatchFiniteDifferences(_ c: Case) {
    var rng = SeededGenerator(seed: 11)
    let x = Tensor<Double>.randomNormal(c.shape, using: &rng)
    let result = checkGradients(of: { c.f($0[0]) }, at: [x])
    #expect(result.passed, "\(c.name): \(result)")
  }

  /// Float agrees with Double (the same loops, specialised).
  @Test func floatMatchesDouble() {
    var rng = SeededGenerator(seed: 2)
    let x = Tensor<Double>.randomNormal([2, 2, 6, 6], using: &rng)
    let pairs: [(Tensor<Double>, Tensor<Float>)] = [
      (
        maxPool2d(x, kernelSize: 3, stride: 2, padding: 1),
        maxPool2d(Tensor<Float>(x), kernelSize: 3, stride: 2, padding: 1)
      ),
      (avgPool2d(x, kernelSize: 2), avgPool2d(Tensor<Float>(x), kernelSize: 2)),
      (adaptiveAvgPool2d(x, outputSize: 4), adaptiveAvgPool2d(Tensor<Float>(x), outputSize: 4)),
    ]
    for (d, f) in pairs {
      for (a, b) in zip(d.scalars, f.scalars) { #expect(abs(a - Double(b)) <= 1e-6) }
    }
  }

  @Test func paddingAboveHalfTheKernelIsAnError() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = maxPool2d(Tensor<Float>.zeros([1, 1, 4, 4]), kernelSize: 2, padding: 2)
    }
    let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    #expect(
      message.contains("maxPool2d: padding (2) must be between 0 and half the kernel size (2)"), "\(message)")
    #expect(message.contains("PoolingTests.swift:"), "\(message)")
  }
}
