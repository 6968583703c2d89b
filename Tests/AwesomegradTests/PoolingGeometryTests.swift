import Testing

@testable import Awesomegrad

/// Awkward pooling geometry (issue 19): padding as wide as the input allows (PyTorch allows up to
/// half the kernel), 1×1 images, strides larger than the kernel (pixels no window reads), non-square
/// windows, a kernel as large as the input, and adaptive pooling to sizes that do not divide the
/// input or exceed it. Each case is compared with loops written from PyTorch's definitions:
///
///     out size = ⌊(H + 2p − k) / s⌋ + 1, window of output i: rows i·s − p ..< i·s − p + k
///     max: the largest pixel of the window inside the image (padding never wins)
///     avg: Σ window / divisor, divisor = (min(i·s − p + k, H + p) − (i·s − p)) · (same for columns)
///          with count_include_pad, else the number of pixels inside the image
///     adaptive: rows ⌊i·H/oH⌋ ..< ⌈(i+1)·H/oH⌉, the mean of the pixels
///
/// and with finite differences.
@Suite struct PoolingGeometryTests {
  enum Kind: Sendable { case max, average(includePad: Bool), adaptive(Int, Int) }

  struct Case: CustomTestStringConvertible, Sendable {
    let name: String
    let shape: [Int]
    let kind: Kind
    var kernel = (1, 1), stride = (1, 1), padding = (0, 0)
    var testDescription: String { name }
  }

  static let cases: [Case] = [
    Case(
      name: "max, 1×1 image, kernel 3, padding 1", shape: [2, 3, 1, 1], kind: .max, kernel: (3, 3),
      padding: (1, 1)),
    Case(
      name: "max, 2×2 image, kernel 2, padding 1", shape: [2, 3, 2, 2], kind: .max, kernel: (2, 2),
      padding: (1, 1)),
    Case(
      name: "max, stride larger than the kernel", shape: [2, 3, 8, 9], kind: .max, kernel: (2, 2),
      stride: (3, 3)),
    Case(
      name: "max, non-square", shape: [2, 3, 5, 6], kind: .max, kernel: (1, 3), stride: (2, 1),
      padding: (0, 1)),
    Case(
      name: "max, kernel as large as the input", shape: [2, 3, 4, 5], kind: .max, kernel: (4, 5),
      stride: (4, 5)),
    Case(name: "max, output one wide", shape: [1, 1, 5, 3], kind: .max, kernel: (2, 3)),
    Case(name: "max, 1×1 kernel, stride 2", shape: [2, 3, 5, 6], kind: .max, stride: (2, 2)),
    Case(
      name: "avg, padding, include", shape: [2, 3, 5, 6], kind: .average(includePad: true), kernel: (3, 3),
      stride: (2, 2), padding: (1, 1)),
    Case(
      name: "avg, padding, exclude", shape: [2, 3, 5, 6], kind: .average(includePad: false), kernel: (3, 3),
      stride: (2, 2), padding: (1, 1)),
    Case(
      name: "avg, 1×1 image, include", shape: [2, 3, 1, 1], kind: .average(includePad: true), kernel: (3, 3),
      padding: (1, 1)),
    Case(
      name: "avg, 1×1 image, exclude", shape: [2, 3, 1, 1], kind: .average(includePad: false), kernel: (3, 3),
      padding: (1, 1)),
    Case(
      name: "avg, non-square, exclude", shape: [2, 3, 4, 7], kind: .average(includePad: false),
      kernel: (2, 4),
      stride: (1, 3), padding: (1, 2)),
    Case(
      name: "avg, stride larger than the kernel, padding", shape: [2, 3, 7, 8],
      kind: .average(includePad: true),
      kernel: (2, 2), stride: (3, 3), padding: (1, 1)),
    // Padding 2 of a 4-wide kernel (the most PyTorch allows) with overlapping windows.
    Case(
      name: "avg, kernel 4, stride 3, padding 2", shape: [1, 2, 6, 6], kind: .average(includePad: true),
      kernel: (4, 4), stride: (3, 3), padding: (2, 2)),
    Case(name: "adaptive, not dividing", shape: [2, 3, 7, 5], kind: .adaptive(3, 2)),
    Case(name: "adaptive, larger than the input", shape: [2, 3, 3, 2], kind: .adaptive(5, 4)),
    Case(name: "adaptive, 1×1 image", shape: [2, 3, 1, 1], kind: .adaptive(2, 3)),
    Case(name: "adaptive, one row", shape: [1, 1, 6, 7], kind: .adaptive(1, 3)),
  ]

  func apply(_ c: Case, _ x: Tensor<Double>) -> Tensor<Double> {
    let kernel = IntOrPair(c.kernel.0, c.kernel.1), stride = IntOrPair(c.stride.0, c.stride.1)
    let padding = IntOrPair(c.padding.0, c.padding.1)
    switch c.kind {
    case .max: return maxPool2d(x, kernelSize: kernel, stride: stride, padding: padding)
    case .average(let includePad):
      return avgPool2d(x, kernelSize: kernel, stride: stride, padding: padding, countIncludePad: includePad)
    case .adaptive(let h, let w): return adaptiveAvgPool2d(x, outputSize: IntOrPair(h, w))
    }
  }

  /// One axis of the definition: for each output, the input range it reads and the divisor length
  /// counting padding.
  static func windows(_ c: Case, axis: Int, size: Int) -> [(Range<Int>, Int)] {
    let (k, s, p) = axis == 0 ? (c.kernel.0, c.stride.0, c.padding.0) : (c.kernel.1, c.stride.1, c.padding.1)
    if case .adaptive(let oh, let ow) = c.kind {
      let o = axis == 0 ? oh : ow
      return (0..<o).map { i in
        let lo = (i * size) / o, hi = ((i + 1) * size + o - 1) / o  // ⌊i·H/oH⌋, ⌈(i+1)·H/oH⌉
        return (lo..<hi, hi - lo)
      }
    }
    let count = (size + 2 * p - k) / s + 1
    return (0..<count).map { i in
      let start = i * s - p, end = start + k
      return (max(start, 0)..<min(end, size), min(end, size + p) - start)
    }
  }

  /// The reference output, from the definitions in the suite's comment.
  static func reference(_ c: Case, _ x: [Double]) -> (values: [Double], shape: [Int]) {
    let (n, ch, h, w) = (c.shape[0], c.shape[1], c.shape[2], c.shape[3])
    let rows = windows(c, axis: 0, size: h), columns = windows(c, axis: 1, size: w)
    var out: [Double] = []
    for plane in 0..<(n * ch) {
      for (r, rowLength) in rows {
        for (q, columnLength) in columns {
          var pixels: [Double] = []
          for i in r { for j in q { pixels.append(x[(plane * h + i) * w + j]) } }
          switch c.kind {
          case .max: out.append(pixels.max()!)
          case .average(let includePad):
            out.append(pixels.reduce(0, +) / Double(includePad ? rowLength * columnLength : pixels.count))
          case .adaptive: out.append(pixels.reduce(0, +) / Double(pixels.count))
          }
        }
      }
    }
    return (out, [n, ch, rows.count, columns.count])
  }

  /// Distinct values 0.07 apart in a scrambled order, so no max window has a tie.
  static func input(_ shape: [Int]) -> Tensor<Double> {
    let count = shape.reduce(1, *)
    let values = (0..<count).map { i in Double((i * 7919) % count) * 0.07 - 1 }
    return Tensor(values, shape: shape)
  }

  @Test(arguments: cases)
  func matchesTheDefinition(_ c: Case) {
    let x = Self.input(c.shape)
    let expected = Self.reference(c, x.scalars)
    let y = apply(c, x)
    #expect(y.shape == expected.shape)
    for (a, b) in zip(y.scalars, expected.values) { #expect(abs(a - b) <= 1e-12 * (1 + abs(b)), "\(c.name)") }
  }

  @Test(arguments: cases)
  func gradientsMatchFiniteDifferences(_ c: Case) {
    let result = checkGradients(of: { apply(c, $0[0]) }, at: [Self.input(c.shape)])
    #expect(result.passed, "\(c.name): \(result)")
  }

  /// A 1×1 image with a 3×3 window and padding 1: the window holds the pixel and eight padding
  /// cells, so the average is x/9 counting padding and x without, and ∂x is 1/9 or 1.
  @Test func averageOfOnePixelWithPadding() {
    for (includePad, divisor) in [(true, 9.0), (false, 1.0)] {
      let x = Tensor<Double>([4.5], shape: [1, 1, 1, 1], requiresGrad: true)
      let y = avgPool2d(x, kernelSize: 3, stride: 1, padding: 1, countIncludePad: includePad)
      #expect(y.shape == [1, 1, 1, 1])
      #expect(y.scalars == [4.5 / divisor])
      y.sum().backward()
      #expect(x.grad!.scalars == [1 / divisor])
    }
  }
}
