import Testing

@testable import Awesomegrad

/// Awkward convolution geometry (issue 19): padding wider than the input, outputs one wide, strides
/// larger than the kernel, dilation, groups and depthwise kernels with padding, non-square kernels
/// and strides. Each case is compared with the six nested loops of the definition
/// (`ConvolutionTests.directConv2d`, which reads x as 0 outside the image) and with finite
/// differences.
///
/// Output size per axis, PyTorch's formula: ⌊(H + 2p − d·(k − 1) − 1) / s⌋ + 1. With the padding
/// wider than the input, some kernel taps read only padding for every output position: conv1d on
/// width 1 with kernel 5 and padding 2 has one output, ⌊(1 + 4 − 4 − 1) / 1⌋ + 1 = 1, and only its
/// middle tap reads the pixel. That case trapped in the unfold ("Range requires lowerBound <=
/// upperBound") before the fix.
@Suite struct ConvolutionGeometryTests {
  typealias Case = ConvolutionTests.Case

  static let cases: [Case] = [
    // conv1d on width 1, kernel 5, padding 2, as conv2d of height 1: the trap.
    Case(name: "width 1, kernel 5, padding 2", input: [2, 3, 1, 1], weight: [4, 3, 1, 5], padding: (0, 2)),
    Case(
      name: "1×1 image, 7×7 kernel, padding 3", input: [2, 3, 1, 1], weight: [4, 3, 7, 7], padding: (3, 3)),
    Case(
      name: "2×2 image, 7×7 kernel, padding 3", input: [1, 2, 2, 2], weight: [3, 2, 7, 7], padding: (3, 3)),
    // Padding larger than the input on both axes: taps at both ends read only padding.
    Case(name: "padding exceeds the input", input: [2, 2, 2, 3], weight: [2, 2, 3, 3], padding: (3, 4)),
    Case(
      name: "padding exceeds the input, no bias", input: [1, 2, 1, 2], weight: [2, 2, 2, 3], bias: false,
      padding: (2, 3)),
    Case(name: "output one wide", input: [2, 3, 6, 4], weight: [3, 3, 3, 4]),
    Case(name: "output one high and wide", input: [1, 2, 3, 5], weight: [2, 2, 3, 5]),
    Case(name: "stride larger than the kernel", input: [2, 3, 9, 10], weight: [3, 3, 2, 2], stride: (3, 4)),
    Case(
      name: "stride larger than the kernel, padding wider than the input", input: [1, 2, 2, 2],
      weight: [2, 2, 2, 2], stride: (3, 4), padding: (2, 2)),
    Case(
      name: "dilation with padding", input: [2, 3, 7, 8], weight: [3, 3, 3, 3], padding: (2, 3),
      dilation: (2, 3)),
    Case(
      name: "dilation with padding wider than the input", input: [1, 2, 2, 2], weight: [2, 2, 3, 3],
      padding: (3, 3), dilation: (2, 2)),
    Case(
      name: "dilation, non-square stride", input: [2, 3, 8, 6], weight: [2, 3, 2, 3], bias: false,
      stride: (2, 1), padding: (1, 0), dilation: (3, 1)),
    Case(
      name: "groups with padding", input: [2, 6, 6, 5], weight: [9, 2, 3, 3], stride: (2, 1), padding: (2, 1),
      groups: 3),
    Case(
      name: "depthwise ×2 with padding", input: [2, 3, 6, 7], weight: [6, 1, 3, 5], bias: false,
      stride: (1, 2), padding: (1, 2), groups: 3),
    Case(
      name: "depthwise on a 1×1 image", input: [2, 3, 1, 1], weight: [3, 1, 3, 3], padding: (1, 1), groups: 3),
    Case(
      name: "depthwise, padding wider than the input", input: [1, 2, 2, 1], weight: [4, 1, 3, 5],
      padding: (2, 3), groups: 2),
    Case(
      name: "non-square kernel and stride", input: [2, 3, 7, 6], weight: [3, 3, 1, 5], stride: (2, 1),
      padding: (0, 2)),
    Case(
      name: "1×1 kernel, stride 2, padding 1", input: [2, 3, 5, 6], weight: [3, 3, 1, 1], stride: (2, 2),
      padding: (1, 1)),
  ]

  func inputs(_ c: Case) -> [Tensor<Double>] {
    var rng = SeededGenerator(seed: 19)
    var tensors = [Tensor<Double>.randomNormal(c.input, using: &rng), .randomNormal(c.weight, using: &rng)]
    if c.bias { tensors.append(.randomNormal([c.weight[0]], using: &rng)) }
    return tensors
  }

  func apply(_ c: Case, _ t: [Tensor<Double>]) -> Tensor<Double> {
    conv2d(
      t[0], weight: t[1], bias: t.count > 2 ? t[2] : nil, stride: IntOrPair(c.stride.0, c.stride.1),
      padding: IntOrPair(c.padding.0, c.padding.1), dilation: IntOrPair(c.dilation.0, c.dilation.1),
      groups: c.groups)
  }

  @Test(arguments: cases)
  func matchesDirectLoops(_ c: Case) {
    let t = inputs(c)
    let expected = ConvolutionTests.directConv2d(
      t[0].scalars, c.input, t[1].scalars, c.weight, c.bias ? t[2].scalars : nil, stride: c.stride,
      padding: c.padding, dilation: c.dilation, groups: c.groups)
    let y = apply(c, t)
    #expect(y.shape == expected.shape)
    for (a, b) in zip(y.scalars, expected.values) { #expect(abs(a - b) <= 1e-12 * (1 + abs(b))) }
  }

  @Test(arguments: cases)
  func gradientsMatchFiniteDifferences(_ c: Case) {
    let result = checkGradients(of: { apply(c, $0) }, at: inputs(c))
    #expect(result.passed, "\(c.name): \(result)")
  }

  /// The reproduction through conv1d itself: width 1, kernel 5, padding 2. The one output
  /// is b + Σ_c w[o, c, 2]·x[c] (only the middle tap reads the pixel), and ∂x[c] = Σ_o w[o, c, 2],
  /// ∂w[o, c, k] = x[c] for k = 2 and 0 for the taps that read padding.
  @Test func conv1dOnWidthOneWithWidePadding() {
    let x = Tensor<Double>([2, -1], shape: [1, 2, 1], requiresGrad: true)
    let w = Tensor<Double>((1...10).map(Double.init), shape: [1, 2, 5], requiresGrad: true)
    let b = Tensor<Double>([0.5], shape: [1], requiresGrad: true)
    let y = conv1d(x, weight: w, bias: b, padding: 2)
    #expect(y.shape == [1, 1, 1])
    #expect(y.scalars == [-1.5])  // 0.5 + w[0, 0, 2]·2 + w[0, 1, 2]·(−1) = 0.5 + 3·2 − 8
    y.sum().backward()
    #expect(x.grad!.scalars == [3, 8])
    #expect(w.grad!.scalars == [0, 0, 2, 0, 0, 0, 0, -1, 0, 0])
    #expect(b.grad!.scalars == [1])
  }

  /// Float runs the same unfold through sgemm: it agrees with Double on every case.
  @Test func floatAgreesWithDouble() {
    for c in Self.cases {
      let t = inputs(c)
      let double = apply(c, t).scalars
      let float = conv2d(
        Tensor<Float>(t[0]), weight: Tensor<Float>(t[1]), bias: c.bias ? Tensor<Float>(t[2]) : nil,
        stride: IntOrPair(c.stride.0, c.stride.1), padding: IntOrPair(c.padding.0, c.padding.1),
        dilation: IntOrPair(c.dilation.0, c.dilation.1), groups: c.groups
      ).scalars
      for (a, b) in zip(float, double) { #expect(abs(Double(a) - b) <= 1e-5 * (1 + abs(b)), "\(c.name)") }
    }
  }
}
