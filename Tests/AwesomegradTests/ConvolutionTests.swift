import Testing

@testable import Awesomegrad

/// conv2d and conv1d: hand-computed values, a direct-loop reference, gradient checks and the gemm
/// structure (one gemm per image and group, no unfold for 1×1 kernels, bounded workspace).
@Suite struct ConvolutionTests {
  /// The definition, written as six nested loops over plain arrays: the reference every case is
  /// compared with. x: [N, C, H, W], w: [O, C/g, kh, kw].
  static func directConv2d(
    _ x: [Double], _ xs: [Int], _ w: [Double], _ ws: [Int], _ b: [Double]?,
    stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int), groups: Int
  ) -> (values: [Double], shape: [Int]) {
    let (n, c, h, wd) = (xs[0], xs[1], xs[2], xs[3])
    let (o, cg, kh, kw) = (ws[0], ws[1], ws[2], ws[3])
    let oh = (h + 2 * padding.0 - dilation.0 * (kh - 1) - 1) / stride.0 + 1
    let ow = (wd + 2 * padding.1 - dilation.1 * (kw - 1) - 1) / stride.1 + 1
    var out = [Double](repeating: 0, count: n * o * oh * ow)
    let og = o / groups
    for s in 0..<n {
      for oc in 0..<o {
        let group = oc / og
        for i in 0..<oh {
          for j in 0..<ow {
            var acc = b?[oc] ?? 0
            for ci in 0..<cg {
              let channel = group * cg + ci
              for ki in 0..<kh {
                for kj in 0..<kw {
                  let y = i * stride.0 - padding.0 + ki * dilation.0
                  let z = j * stride.1 - padding.1 + kj * dilation.1
                  if y < 0 || y >= h || z < 0 || z >= wd { continue }
                  acc += w[((oc * cg + ci) * kh + ki) * kw + kj] * x[((s * c + channel) * h + y) * wd + z]
                }
              }
            }
            out[((s * o + oc) * oh + i) * ow + j] = acc
          }
        }
      }
    }
    return (out, [n, o, oh, ow])
  }

  /// One 3×3 image, a 2×2 kernel, no padding:
  ///
  ///     x = 1 2 3    w = 1 0    out[i, j] = x[i, j] − x[i+1, j+1] + 10
  ///         4 5 6        0 −1   = (1−5, 2−6; 4−8, 5−9) + 10 = (6, 6; 6, 6)
  ///         7 8 9
  ///
  /// With upstream 1: ∂b = 4 (four outputs); ∂w[0,0] = Σ x[0..1, 0..1] = 1+2+4+5 = 12,
  /// ∂w[1,1] = 5+6+8+9 = 28; ∂x[0,0] = w[0,0] = 1 (one output reads it), ∂x[1,1] = 1 − 1 = 0.
  @Test func handComputed() {
    let x = Tensor<Double>((1...9).map(Double.init), shape: [1, 1, 3, 3], requiresGrad: true)
    let w = Tensor<Double>([1, 0, 0, -1], shape: [1, 1, 2, 2], requiresGrad: true)
    let b = Tensor<Double>([10], shape: [1], requiresGrad: true)
    let y = conv2d(x, weight: w, bias: b)
    #expect(y.shape == [1, 1, 2, 2])
    #expect(y.scalars == [6, 6, 6, 6])
    y.sum().backward()
    #expect(b.grad!.scalars == [4])
    #expect(w.grad!.scalars == [12, 16, 24, 28])
    #expect(x.grad!.scalars == [1, 1, 0, 1, 0, -1, 0, -1, -1])
  }

  struct Case: CustomTestStringConvertible, Sendable {
    let name: String
    let input: [Int], weight: [Int]
    var bias = true
    var stride = (1, 1), padding = (0, 0), dilation = (1, 1), groups = 1
    var testDescription: String { name }
  }

  static let cases: [Case] = [
    Case(name: "basic", input: [2, 3, 6, 5], weight: [4, 3, 3, 3]),
    Case(
      name: "stride and padding", input: [2, 3, 7, 6], weight: [2, 3, 3, 3], stride: (2, 2), padding: (1, 1)),
    Case(
      name: "rectangular, no bias", input: [1, 2, 6, 6], weight: [3, 2, 5, 3], bias: false, stride: (1, 2),
      padding: (2, 1)),
    Case(name: "dilation", input: [1, 2, 7, 7], weight: [2, 2, 3, 3], padding: (2, 2), dilation: (2, 2)),
    Case(name: "groups", input: [2, 4, 5, 5], weight: [4, 2, 3, 3], padding: (1, 1), groups: 2),
    Case(name: "depthwise", input: [2, 3, 5, 5], weight: [3, 1, 3, 3], padding: (1, 1), groups: 3),
    Case(name: "1×1", input: [2, 3, 4, 4], weight: [5, 3, 1, 1]),
    Case(name: "1×1 strided", input: [1, 3, 5, 5], weight: [2, 3, 1, 1], stride: (2, 2)),
    Case(name: "1×1 grouped", input: [2, 4, 3, 3], weight: [6, 2, 1, 1], groups: 2),
    Case(
      name: "stride larger than kernel", input: [1, 2, 9, 8], weight: [2, 2, 2, 2], stride: (3, 3),
      padding: (1, 0)),
  ]

  func inputs(_ c: Case, seed: UInt64 = 7) -> [Tensor<Double>] {
    var rng = SeededGenerator(seed: seed)
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
    let expected = Self.directConv2d(
      t[0].scalars, c.input, t[1].scalars, c.weight, c.bias ? t[2].scalars : nil, stride: c.stride,
      padding: c.padding, dilation: c.dilation, groups: c.groups)
    let y = apply(c, t)
    #expect(y.shape == expected.shape)
    for (a, b) in zip(y.scalars, expected.values) { #expect(abs(a - b) <= 1e-12 * (1 + abs(b))) }
    // Float runs the same kernels through sgemm.
    let yf = apply(c, t).scalars
    let floatY = conv2d(
      Tensor<Float>(t[0]), weight: Tensor<Float>(t[1]), bias: c.bias ? Tensor<Float>(t[2]) : nil,
      stride: IntOrPair(c.stride.0, c.stride.1), padding: IntOrPair(c.padding.0, c.padding.1),
      dilation: IntOrPair(c.dilation.0, c.dilation.1), groups: c.groups)
    for (a, b) in zip(floatY.scalars, yf) { #expect(abs(Double(a) - b) <= 1e-5 * (1 + abs(b))) }
  }

  @Test(arguments: cases)
  func gradientsMatchFiniteDifferences(_ c: Case) {
    let result = checkGradients(of: { apply(c, $0) }, at: inputs(c))
    #expect(result.passed, "\(c.name): \(result)")
  }

  /// conv1d is conv2d on images of height 1: compare with the direct loops on [N, C, 1, L].
  @Test func conv1dMatchesConv2dOfHeightOne() {
    var rng = SeededGenerator(seed: 3)
    let x = Tensor<Double>.randomNormal([2, 4, 11], using: &rng)
    let w = Tensor<Double>.randomNormal([6, 2, 3], using: &rng)
    let b = Tensor<Double>.randomNormal([6], using: &rng)
    let y = conv1d(x, weight: w, bias: b, stride: 2, padding: 2, dilation: 2, groups: 2)
    let expected = Self.directConv2d(
      x.scalars, [2, 4, 1, 11], w.scalars, [6, 2, 1, 3], b.scalars, stride: (1, 2), padding: (0, 2),
      dilation: (1, 2), groups: 2)
    #expect(y.shape == [2, 6, expected.shape[3]])
    for (a, e) in zip(y.scalars, expected.values) { #expect(abs(a - e) <= 1e-12 * (1 + abs(e))) }
    let result = checkGradients(
      of: { conv1d($0[0], weight: $0[1], bias: $0[2], stride: 2, padding: 2, dilation: 2, groups: 2) },
      at: [x, w, b])
    #expect(result.passed, "\(result)")
  }

  /// Forward: one gemm per image and group. Backward: one for ∂W and one for ∂x per image and group;
  /// data (no requiresGrad) costs no ∂x gemm.
  @Test func gemmCallsPerImage() {
    var rng = SeededGenerator(seed: 1)
    let x = Tensor<Float>.randomNormal([3, 4, 6, 6], using: &rng)
    let w = Tensor<Float>.randomNormal([4, 2, 3, 3], using: &rng).requireGrad()
    let forward = CallCounter()
    let y = BLAS.$gemmCounter.withValue(forward) { conv2d(x, weight: w, padding: 1, groups: 2) }
    #expect(forward.count == 3 * 2)
    let backward = CallCounter()
    BLAS.$gemmCounter.withValue(backward) { y.sum().backward() }
    #expect(backward.count == 3 * 2)
    let xg = x.detached().requireGrad()
    let both = CallCounter()
    BLAS.$gemmCounter.withValue(both) { conv2d(xg, weight: w, padding: 1, groups: 2).sum().backward() }
    #expect(both.count == 3 * 2 * 3)
  }

  /// A 1×1, stride-1, unpadded kernel is a plain product with the image: no workspace.
  @Test func pointwiseNeedsNoWorkspace() {
    #expect(conv2dWorkspaceCount(inputShape: [8, 32, 14, 14], weightShape: [64, 32, 1, 1]) == 0)
    // 3×3 over 32 channels, 14×14 output: 288 rows × 196 positions.
    #expect(
      conv2dWorkspaceCount(inputShape: [8, 32, 14, 14], weightShape: [64, 32, 3, 3], padding: 1) == 288 * 196)
  }

  /// An image whose unfolded columns exceed the workspace limit (144 rows × 110·110 positions >
  /// 2²⁰) is done in blocks of output rows, and agrees with the direct loops, gradients included.
  @Test func largeImageRunsInBlocks() {
    let xs = [1, 16, 110, 110], ws = [2, 16, 3, 3]
    let count = conv2dWorkspaceCount(inputShape: xs, weightShape: ws, padding: 1)
    #expect(count <= convolutionWorkspaceLimit)
    #expect(count == 144 * 110 * (convolutionWorkspaceLimit / (144 * 110)))
    var rng = SeededGenerator(seed: 5)
    let x = Tensor<Double>.randomNormal(xs, using: &rng).requireGrad()
    let w = Tensor<Double>.randomNormal(ws, using: &rng).requireGrad()
    let y = conv2d(x, weight: w, padding: 1)
    let expected = Self.directConv2d(
      x.scalars, xs, w.scalars, ws, nil, stride: (1, 1), padding: (1, 1), dilation: (1, 1), groups: 1)
    var worst = 0.0
    for (a, e) in zip(y.scalars, expected.values) { worst = max(worst, abs(a - e)) }
    #expect(worst <= 1e-11)
    // Σ out: ∂/∂w[o, c, ki, kj] is the sum of the input window that tap reads; check one tap.
    y.sum().backward()
    var tap = 0.0  // w[·, 0, 0, 0] reads x[0, 0, i − 1, j − 1] for every output (i, j) inside
    for i in 0..<109 { for j in 0..<109 { tap += x.scalars[i * 110 + j] } }
    #expect(abs(w.grad!.scalars[0] - tap) <= 1e-9)
    // ∂/∂x of Σ out = Σ over the taps that read a pixel: an interior pixel is read by all 9 taps.
    let interior = 55 * 110 + 55
    var taps = 0.0
    for o in 0..<2 { for k in 0..<9 { taps += w.scalars[o * 144 + k] } }
    #expect(abs(x.grad!.scalars[interior] - taps) <= 1e-11)
  }
}
