import Testing

@testable import Awesomegrad

/// Every op's backward agrees with central finite differences (Double, ε = 1e-6, tolerance 1e-6).
@Suite struct GradCheckOpsTests {
  /// An op under test: its name, a function of the inputs, and the inputs' shapes. Inputs are drawn
  /// from normal(0, 1), or from uniform(0.5, 2) when `positive` (log, sqrt, pow, denominators).
  struct OpCase: CustomTestStringConvertible, Sendable {
    let name: String
    let shapes: [[Int]]
    var positive: [Bool] = []
    let f: @Sendable ([Tensor<Double>]) -> Tensor<Double>
    var testDescription: String { name }
  }

  static let cases: [OpCase] = [
    OpCase(name: "add broadcast", shapes: [[2, 1, 4], [3, 1]]) { $0[0] + $0[1] },
    // y = x·Wᵀ + b, with x [2, 3, 4] folded into 6 rows.
    OpCase(name: "linear", shapes: [[2, 3, 4], [5, 4], [5]]) { $0[0].linear(weight: $0[1], bias: $0[2]) },
    OpCase(name: "sub broadcast", shapes: [[3, 4], [4]]) { $0[0] - $0[1] },
    OpCase(name: "mul broadcast", shapes: [[2, 3, 1], [3, 4]]) { $0[0] * $0[1] },
    OpCase(name: "div broadcast", shapes: [[3, 4], [3, 1]], positive: [false, true]) { $0[0] / $0[1] },
    OpCase(name: "tensor-scalar forms", shapes: [[3]], positive: [true]) { (2 - $0[0]) * 3 / $0[0] + 1 },
    OpCase(name: "neg", shapes: [[3, 2]]) { -$0[0] },
    OpCase(name: "exp", shapes: [[3, 2]]) { $0[0].exp() },
    OpCase(name: "log", shapes: [[3, 2]], positive: [true]) { $0[0].log() },
    OpCase(name: "tanh", shapes: [[3, 2]]) { $0[0].tanh() },
    OpCase(name: "relu", shapes: [[3, 2]]) { $0[0].relu() },
    OpCase(name: "leakyReLU", shapes: [[3, 2]]) { $0[0].leakyReLU(negativeSlope: 0.2) },
    OpCase(name: "sigmoid", shapes: [[3, 2]]) { $0[0].sigmoid() },
    OpCase(name: "sqrt", shapes: [[3, 2]], positive: [true]) { $0[0].sqrt() },
    OpCase(name: "abs", shapes: [[3, 2]]) { $0[0].abs() },
    OpCase(name: "pow 3", shapes: [[3, 2]]) { $0[0].pow(3) },
    OpCase(name: "pow -1.5", shapes: [[3, 2]], positive: [true]) { $0[0].pow(-1.5) },
    OpCase(name: "pow 2", shapes: [[3, 2]]) { $0[0].pow(2) },
    OpCase(name: "gelu", shapes: [[3, 2]]) { $0[0].gelu() },
    OpCase(name: "gelu tanh", shapes: [[3, 2]]) { $0[0].gelu(approximate: .tanh) },
    OpCase(name: "silu", shapes: [[3, 2]]) { $0[0].silu() },
    OpCase(name: "softplus", shapes: [[3, 2]]) { $0[0].softplus() },
    OpCase(name: "sum all", shapes: [[2, 3]]) { $0[0].sum() },
    OpCase(name: "sum axes keepingDimensions", shapes: [[2, 3, 4]]) { $0[0].sum(axes: [0, -1], keepingDimensions: true) },
    OpCase(name: "mean axis", shapes: [[2, 3, 4]]) { $0[0].mean(axes: [1]) },
    OpCase(name: "max all", shapes: [[3, 4]]) { $0[0].max() },
    OpCase(name: "max axes", shapes: [[2, 3, 4]]) { $0[0].max(axes: [0, 2], keepingDimensions: true) },
    OpCase(name: "variance unbiased", shapes: [[3, 4]]) { $0[0].variance(axes: [1]) },
    OpCase(name: "variance population all", shapes: [[3, 4]]) { $0[0].variance(correction: 0) },
    OpCase(name: "softmax", shapes: [[3, 4]]) { $0[0].softmax(axis: 0) },
    OpCase(name: "logSoftmax", shapes: [[3, 4]]) { $0[0].logSoftmax() },
    OpCase(name: "logSumExp", shapes: [[2, 3, 4]]) { $0[0].logSumExp(axes: [1, 2]) },
    OpCase(name: "matmul 2-D", shapes: [[3, 4], [4, 2]]) { $0[0].matmul($0[1]) },
    OpCase(name: "matmul transposed flags", shapes: [[4, 3], [2, 4]]) {
      $0[0].matmul($0[1], transposeA: true, transposeB: true)
    },
    OpCase(name: "matmul broadcast batch", shapes: [[2, 1, 3, 4], [3, 4, 2]]) { $0[0].matmul($0[1]) },
    OpCase(name: "matmul vector-matrix", shapes: [[3], [2, 3, 4]]) { $0[0].matmul($0[1]) },
    OpCase(name: "matmul matrix-vector", shapes: [[2, 3], [3]]) { $0[0].matmul($0[1]) },
    OpCase(name: "matmul vector-vector", shapes: [[3], [3]]) { $0[0].matmul($0[1]) },
    OpCase(name: "reshape", shapes: [[2, 6]]) { $0[0].reshaped([3, -1]) },
    OpCase(name: "permuted", shapes: [[2, 3, 4]]) { $0[0].permuted([2, 0, 1]) },
    OpCase(name: "transposed", shapes: [[2, 3, 4]]) { $0[0].transposed() },
    OpCase(name: "concatenated", shapes: [[2, 3], [2, 1], [2, 2]]) { Tensor.concatenated($0, axis: 1) },
    OpCase(name: "sliced", shapes: [[4, 3]]) { $0[0].sliced(axis: 0, start: 1, end: -1) },
    OpCase(name: "expanded", shapes: [[3, 1]]) { $0[0].expanded(to: [2, 3, 4]) },
    OpCase(name: "squeeze unsqueeze", shapes: [[3, 1]]) { $0[0].squeezed().unsqueezed(axis: 0) },
    OpCase(name: "crossEntropy", shapes: [[4, 3]]) { crossEntropy($0[0], labels: [0, 2, 1, 2]) },
    OpCase(name: "crossEntropy none", shapes: [[4, 3]]) {
      crossEntropy($0[0], labels: [0, 2, 1, 2], reduction: .none)
    },
    OpCase(name: "mse", shapes: [[3, 2], [3, 2]]) { mse($0[0], $0[1]) },
    OpCase(name: "binaryCrossEntropyWithLogits", shapes: [[3, 2], [3, 2]], positive: [false, true]) {
      binaryCrossEntropyWithLogits($0[0], targets: $0[1] / 2, reduction: .sum)
    },
    OpCase(name: "hingeLoss", shapes: [[4]]) {
      hingeLoss($0[0], labels: Tensor([1, -1, 1, -1]), reduction: .none)
    },
  ]

  @Test(arguments: cases)
  func backwardMatchesFiniteDifferences(_ op: OpCase) {
    var rng = SeededGenerator(seed: 42)
    let inputs = op.shapes.enumerated().map { i, shape in
      i < op.positive.count && op.positive[i]
        ? Tensor<Double>.randomUniform(shape, low: 0.5, high: 2, using: &rng)
        : Tensor<Double>.randomNormal(shape, using: &rng)
    }
    let result = checkGradients(of: op.f, at: inputs)
    #expect(result.passed, "\(op.name): \(result)")
    // One entry per input element: Σ over inputs of Π of the sizes.
    #expect(result.checkedCount == op.shapes.reduce(0) { $0 + $1.reduce(1, *) })
  }

  /// A deliberately wrong pullback (d/dx x² reported as x instead of 2x) is caught.
  @Test func detectsAWrongGradient() {
    let wrongSquare: ([Tensor<Double>]) -> Tensor<Double> = { inputs in
      let x = inputs[0].storage
      return Tensor(x.zipSameShape(x, *), op: "wrongSquare", parents: [inputs[0]]) { g, _ in
        [g.zipSameShape(x, *)]
      }
    }
    let result = checkGradients(of: wrongSquare, at: [Tensor<Double>([1, 2, 3])])
    #expect(!result.passed)
    #expect(result.description.contains("MISMATCH"))
  }

  /// A finite difference that is NaN cannot confirm a gradient. f(x) = x at x = 1 and NaN anywhere
  /// else, with the pullback claiming ∂f/∂x = 1: the central difference (f(1 + ε) − f(1 − ε))/2ε is
  /// NaN. `NaN > worst` is false, so a checker that only keeps the worst error would pass this.
  @Test func aNaNFiniteDifferenceFails() {
    let nanAway: ([Tensor<Double>]) -> Tensor<Double> = { inputs in
      let x = inputs[0].storage
      return Tensor(x.map { $0 == 1 ? $0 : .nan }, op: "nanAway", parents: [inputs[0]]) { g, _ in [g] }
    }
    let result = checkGradients(of: nanAway, at: [Tensor<Double>([1])])
    #expect(!result.passed, "\(result)")
    #expect(result.nonFiniteCount == 1)
    #expect(result.description.contains("1 entries not finite"), "\(result)")
  }

  /// Non-finite entries fail on either side, even when both sides are the same infinity (∞ − ∞ is
  /// NaN, not agreement) and even after a finite entry within tolerance.
  @Test func nonFiniteEntriesFail() {
    for (analytic, numeric) in [(1.0, Double.nan), (.nan, 1), (.infinity, .infinity), (-.infinity, 2)] {
      var result = GradientCheckResult(tolerance: 1e-6)
      result.record(analytic: 0.5, numeric: 0.5, input: 0, index: 0)
      #expect(result.passed)
      result.record(analytic: analytic, numeric: numeric, input: 0, index: 1)
      #expect(!result.passed, "analytic \(analytic), numeric \(numeric)")
      #expect(result.worstIndex == 1)
    }
  }
}
