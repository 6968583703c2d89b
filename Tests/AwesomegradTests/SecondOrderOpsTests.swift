import Testing

@testable import Awesomegrad

/// Every op family's second derivative agrees with finite differences of its first derivative
/// (`checkGradients(order: 2)`, PyTorch's gradgradcheck; Double, ε = 1e-6, tolerance 1e-6). The
/// first-order cases of GradCheckOpsTests, then the families they do not cover.
@Suite struct SecondOrderOpsTests {
  typealias OpCase = GradCheckOpsTests.OpCase

  static let labels = IndexTensor([0, 2, 1, 2], shape: [4])

  static let cases: [OpCase] =
    GradCheckOpsTests.cases + [
      OpCase(name: "pow tensor exponent", shapes: [[3, 4], [4]], positive: [true, false]) {
        Tensor.pow($0[0], $0[1])
      },
      OpCase(name: "layerNorm", shapes: [[2, 3, 4], [4], [4]]) {
        layerNorm($0[0], normalizedShape: [4], weight: $0[1], bias: $0[2])
      },
      OpCase(name: "batchNorm training", shapes: [[3, 2, 2, 2], [2], [2]]) {
        batchNorm($0[0], weight: $0[1], bias: $0[2]).output
      },
      OpCase(name: "batchNorm evaluation", shapes: [[3, 2, 2], [2], [2]]) {
        batchNorm(
          $0[0], runningMean: Tensor([0.1, -0.2], shape: [2]), runningVariance: Tensor([0.5, 2], shape: [2]),
          weight: $0[1], bias: $0[2])
      },
      OpCase(name: "conv2d stride padding groups", shapes: [[2, 4, 5, 5], [4, 2, 3, 3], [4]]) {
        conv2d($0[0], weight: $0[1], bias: $0[2], stride: 2, padding: 1, groups: 2)
      },
      OpCase(name: "conv1d dilation", shapes: [[2, 3, 7], [2, 3, 3]]) {
        conv1d($0[0], weight: $0[1], padding: 2, dilation: 2)
      },
      OpCase(name: "maxPool2d", shapes: [[2, 2, 4, 5]]) {
        maxPool2d($0[0], kernelSize: 3, stride: 2, padding: 1)
          * maxPool2d($0[0], kernelSize: 3, stride: 2, padding: 1)
      },
      OpCase(name: "avgPool2d exclude pad", shapes: [[1, 2, 5, 5]]) {
        let y = avgPool2d($0[0], kernelSize: 3, stride: 2, padding: 1, countIncludePad: false)
        return y * y
      },
      OpCase(name: "adaptiveAvgPool2d", shapes: [[1, 2, 5, 4]]) {
        adaptiveAvgPool2d($0[0], outputSize: [2, 3]).tanh()
      },
      OpCase(name: "attention causal", shapes: [[2, 3, 4], [2, 3, 4], [2, 3, 2]]) {
        scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], isCausal: true)
      },
      OpCase(name: "attention mask", shapes: [[1, 3, 2], [1, 4, 2], [1, 4, 3]]) {
        let mask = MaskTensor(
          [true, false, true, true, true, true, false, true, false, true, true, false], shape: [3, 4])
        return scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], mask: mask)
      },
      OpCase(name: "multiHeadAttention", shapes: [[1, 3, 12]]) {
        multiHeadAttention(qkv: $0[0], heads: 2, isCausal: true)
      },
      OpCase(name: "embedding with repeats", shapes: [[5, 3]]) {
        let rows = embedding(IndexTensor([1, 4, 1, 0], shape: [2, 2]), weight: $0[0])
        return rows * rows
      },
      OpCase(name: "indexSelect axis 1", shapes: [[2, 4, 3]]) {
        let y = $0[0].indexSelect(axis: 1, IndexTensor([3, 0, 3], shape: [3]))
        return y * y
      },
      OpCase(name: "gathering", shapes: [[3, 4]]) {
        let y = $0[0].gathering(axis: 1, IndexTensor([0, 3, 1, 1, 2, 2], shape: [3, 2]))
        return y.exp()
      },
      OpCase(name: "where and maskedFill", shapes: [[3, 4], [4]]) {
        let mask = MaskTensor(
          [true, false, false, true, true, true, false, false, true, false, true, false], shape: [3, 4])
        return (Tensor.where(mask, $0[0] * $0[0], $0[1].exp()).maskedFill(mask, with: 2) * $0[0])
      },
      OpCase(name: "maximum minimum clamp", shapes: [[3, 4], [3, 4]]) {
        Tensor.maximum($0[0], $0[1]) * Tensor.minimum($0[0], $0[1]) + $0[0].clamped(min: -0.5, max: 0.5)
          * $0[1]
      },
      OpCase(name: "cumulativeSum flipped", shapes: [[3, 4]]) {
        let y = $0[0].cumulativeSum(axis: 1).flipped(axes: [0])
        return y * y
      },
      OpCase(name: "stacked strided slice triangle", shapes: [[3, 5], [3, 5]]) {
        let y = Tensor.stacked([$0[0], $0[1]], axis: 1).sliced(axis: 2, start: 0, end: 5, step: 2)
        return (y * y).lowerTriangle()
      },
      OpCase(name: "crossEntropy smoothing ignore", shapes: [[4, 3]]) {
        crossEntropy($0[0], labels: Self.labels, ignoreIndex: 1, labelSmoothing: 0.2)
      },
      OpCase(name: "nllLoss", shapes: [[4, 3]]) {
        nllLoss($0[0].logSoftmax(), labels: Self.labels, reduction: .sum)
      },
      OpCase(name: "huberLoss", shapes: [[3, 4], [3, 4]]) { huberLoss($0[0], $0[1], delta: 0.7) },
      OpCase(name: "linear through tanh", shapes: [[2, 3], [4, 3], [4]]) {
        $0[0].linear(weight: $0[1], bias: $0[2]).tanh()
      },
      OpCase(name: "gelu both forms", shapes: [[3, 4]]) {
        $0[0].gelu() * $0[0].gelu(approximate: .tanh)
      },
    ]

  @Test(arguments: cases)
  func secondDerivativeMatchesFiniteDifferences(_ op: OpCase) {
    var rng = SeededGenerator(seed: 42)
    let inputs = op.shapes.enumerated().map { i, shape in
      i < op.positive.count && op.positive[i]
        ? Tensor<Double>.randomUniform(shape, low: 0.5, high: 2, using: &rng)
        : Tensor<Double>.randomNormal(shape, using: &rng)
    }
    let result = checkGradients(of: op.f, at: inputs, order: 2)
    #expect(result.passed, "\(op.name): \(result)")
  }

  /// A deliberately wrong second derivative is caught: a custom op y = x³ whose tensor pullback
  /// returns g·3x² computed as g·3·(x·x) detached from x (its own derivative then misses 6x).
  @Test func detectsAWrongSecondDerivative() {
    let cube: ([Tensor<Double>]) -> Tensor<Double> = { inputs in
      Tensor.custom("cube", inputs: [inputs[0]]) {
        $0[0] * $0[0] * $0[0]
      } pullback: { g, x, _ in
        [g * 3 * (x[0] * x[0]).detached()]
      }
    }
    let x = Tensor<Double>([0.5, -1.5], shape: [2])
    #expect(checkGradients(of: cube, at: [x]).passed)
    #expect(!checkGradients(of: cube, at: [x], order: 2).passed)
  }
}
