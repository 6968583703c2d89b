import Foundation
import Micrograd
import Testing
import TorchConformance

@testable import Awesomegrad

/// PyTorch's rules for NaN, infinity, ties, empty and rank-0 tensors.
///
/// The fixture `torch_ops_edge_seed0.json` holds 40 cases computed by PyTorch (float64): every one
/// must pass in Double; in Float, cases with values finite in float64 but outside Float's range do
/// not apply (the runner skips them). The tests below pin each rule with its math, independently of
/// the fixture.
@Suite struct EdgeCaseTests {
  static func fixture() throws -> Fixture {
    let url = try #require(
      Bundle.module.url(forResource: "torch_ops_edge_seed0", withExtension: "json", subdirectory: "Fixtures"))
    return try Fixture(contentsOf: url)
  }

  /// All 40 edge cases match PyTorch: outputs and gradients, NaN for NaN, ±∞ for the same ±∞.
  @Test func everyEdgeCaseOfTheFixturePasses() throws {
    let results = ConformanceRunner().run(try Self.fixture())
    #expect(results.count == 40)
    let failures = results.filter { !$0.passed }
    #expect(failures.isEmpty, "\(failures)")
    #expect(results.filter(\.passed).count == 40)
  }

  /// The runner is not vacuous on this fixture: a NaN expected where the engine gives a number, and a
  /// number expected where it gives NaN, both fail.
  @Test func aWrongNonFiniteReferenceFails() throws {
    let cases = try Self.fixture().cases
    var relu = try #require(cases.first { $0.name == "relu_nan_inf" })
    #expect(relu.output.data[0].isNaN)
    relu.output.data[0] = 0  // relu(NaN) is NaN, not 0
    #expect(!ConformanceRunner().run(relu).passed)

    var tanh = try #require(cases.first { $0.name == "tanh_inf" })
    tanh.grads![0]!.data[0] = .nan  // d tanh/dx at −∞ is 1 − (−1)² = 0, not NaN
    #expect(!ConformanceRunner().run(tanh).passed)
  }

  /// relu(x) = max(x, 0) with PyTorch's NaN rule: relu(NaN) = NaN, and the pullback zeroes the
  /// gradient only where y ≤ 0 (false for NaN), so the upstream 5 passes through NaN.
  /// x = [NaN, −∞, ∞, −2, −0, 3] ⇒ y = [NaN, 0, ∞, 0, −0, 3], ∂ = 5·[1, 0, 1, 0, 0, 1].
  @Test func reluKeepsNaNAndPassesItsGradient() {
    let x = Tensor<Double>([.nan, -.infinity, .infinity, -2, -0.0, 3], requiresGrad: true)
    let y = x.relu()
    let values = y.scalars
    #expect(values[0].isNaN)
    #expect(Array(values[1...]) == [0, .infinity, 0, 0, 3])
    #expect(values[4].sign == .minus)  // −0 stays −0, as in PyTorch
    y.backward(gradient: .full([6], 5))
    #expect(x.grad?.scalars == [5, 0, 5, 0, 0, 5])
  }

  /// The scalar engine follows the same rule: relu(NaN) = NaN, ∂relu/∂a at NaN = 1.
  @Test func microgradReluAgreesOnNaN() {
    let a = Value(.nan), b = Value(-0.0), c = Value(-2)
    let loss = a.relu() * 5 + b.relu() * 7 + c.relu() * 11
    loss.backward()
    #expect(a.relu().data.isNaN)
    #expect(a.grad == 5)
    #expect(b.grad == 0)
    #expect(c.grad == 0)
  }

  /// max over axis 1 of [[1, NaN, 3], [2, 5, −1]] = [NaN, 5]. The first row's maximum NaN equals no
  /// element, so its tie count is 0 and each element gets g·0/0 = NaN (as torch.amax); the second row
  /// sends g = 0.5 to the 5.
  @Test func maxPropagatesNaN() {
    let x = Tensor<Double>([1, .nan, 3, 2, 5, -1], shape: [2, 3], requiresGrad: true)
    let m = x.max(axes: [1])
    #expect(m.scalars[0].isNaN && m.scalars[1] == 5)
    m.backward(gradient: Tensor([0.25, 0.5]))
    let grad = x.grad!.scalars
    #expect(grad[0..<3].allSatisfy { $0.isNaN })
    #expect(Array(grad[3...]) == [0, 0.5, 0])
    // NaN first, last or alone: still NaN.
    #expect(Tensor<Double>([.nan, 1]).max().item().isNaN)
    #expect(Tensor<Double>([1, .nan]).max().item().isNaN)
    #expect(Tensor<Float>([-.infinity, .nan, .infinity]).max().item().isNaN)
    #expect(Tensor<Float>([-.infinity, -.infinity]).max().item() == -.infinity)
  }

  /// Ties share the gradient evenly, as torch.amax: max along axis 1 of [[2, 2, 1], [3, 3, 3]] is
  /// [2, 3]; with upstream [1, 3] the row gradients are [½, ½, 0] and [1, 1, 1].
  @Test func maxSplitsTiesAlongAnAxis() {
    let x = Tensor<Double>([2, 2, 1, 3, 3, 3], shape: [2, 3], requiresGrad: true)
    let m = x.max(axes: [-1])
    #expect(m.scalars == [2, 3])
    m.backward(gradient: Tensor([1, 3]))
    #expect(x.grad?.scalars == [0.5, 0.5, 0, 1, 1, 1])
  }

  /// An empty tensor reduced over a non-empty axis gives an empty result (max of [0, 3] over axis 1
  /// has shape [0]); a sum over an empty axis is 0 and a mean 0/0 = NaN; a rank-0 maximum is itself.
  @Test func reductionsOfEmptyAndRankZeroTensors() {
    let empty = Tensor<Double>.zeros([0, 3], requiresGrad: true)
    let m = empty.max(axes: [1])
    #expect(m.shape == [0])
    m.backward(gradient: Tensor([], shape: [0]))
    #expect(empty.grad?.shape == [0, 3])
    #expect(Tensor<Double>.zeros([0, 3]).sum(axes: [0]).scalars == [0, 0, 0])
    #expect(Tensor<Double>.zeros([0, 2]).mean(axes: [0]).scalars.allSatisfy { $0.isNaN })
    let scalar = Tensor<Double>(scalar: -4, requiresGrad: true)
    let s = scalar.max()
    #expect(s.shape == [] && s.item() == -4)
    s.backward()
    #expect(scalar.grad?.item() == 1)
  }

  /// The maximum over an axis of size 0 is undefined: it stops with a message naming the op, the
  /// axis and the shape (PyTorch raises), instead of returning −∞.
  @Test func maxOverAnEmptyAxisStops() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Tensor<Float>.zeros([2, 0]).max(axes: [1])
    }
    let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    #expect(message.contains("max: axis 1 has size 0"), "\(message)")
    #expect(message.contains("shape [2, 0]"), "\(message)")
    #expect(message.contains("EdgeCaseTests.swift:"), "\(message)")
  }

  /// log softmax of x = [100000, 100000, 0] in Float: shifting by m = 100000 first gives
  /// y = [0, 0, −100000] − ln(1 + 1 + e⁻¹⁰⁰⁰⁰⁰) = [−ln 2, −ln 2, −100000 − ln 2]. The composite
  /// x − logSumExp(x) rounded logSumExp to 100000.6953 (Float's spacing there is 1/128) and gave
  /// −0.6953. With upstream [1, 0, 0]: ∂ = g − softmax·Σg = [1 − ½, −½, −0].
  @Test func logSoftmaxKeepsPrecisionInFloat() {
    let x = Tensor<Float>([100_000, 100_000, 0], requiresGrad: true)
    let y = x.logSoftmax()
    let ln2 = Float(0.6931471805599453)
    #expect(Swift.abs(y.scalars[0] + ln2) < 1e-6 && Swift.abs(y.scalars[1] + ln2) < 1e-6, "\(y.scalars)")
    #expect(y.scalars[2] == -100_000 - ln2)
    y.backward(gradient: Tensor([1, 0, 0]))
    #expect(x.grad?.scalars == [0.5, -0.5, 0])
  }

  /// A softmax slice of −∞ except one entry is one-hot, with no NaN from ∞ − ∞: softmax([2, −∞, −∞])
  /// = [1, 0, 0]; a slice of only −∞ is NaN (−∞ − log 0), as in PyTorch.
  @Test func softmaxOfMaskedSlices() {
    let y = Tensor<Double>([2, -.infinity, -.infinity, -.infinity, -.infinity, -.infinity], shape: [2, 3])
      .softmax()
    #expect(Array(y.scalars[0..<3]) == [1, 0, 0])
    #expect(y.scalars[3...].allSatisfy { $0.isNaN })
  }

  /// A product with a size-0 axis calls no gemm (BLAS rejects a leading dimension of 0): [2, 0]·[0, 3]
  /// is the empty sum 0 everywhere, and its gradients have the inputs' empty shapes; [0, 4]·[4, 3] is
  /// empty, and ∂B = Aᵀ·G is a sum over 0 rows, so 0.
  @Test func emptyProductsCallNoGemm() {
    let counter = CallCounter()
    BLAS.$gemmCounter.withValue(counter) {
      let a = Tensor<Double>.zeros([2, 0], requiresGrad: true),
        b = Tensor<Double>.zeros([0, 3], requiresGrad: true)
      let c = a.matmul(b)
      #expect(c.shape == [2, 3] && c.scalars == [0, 0, 0, 0, 0, 0])
      c.backward(gradient: .ones([2, 3]))
      #expect(a.grad?.shape == [2, 0] && b.grad?.shape == [0, 3])

      let rows = Tensor<Double>.zeros([0, 4], requiresGrad: true),
        w = Tensor<Double>.ones([4, 3], requiresGrad: true)
      let d = rows.matmul(w)
      #expect(d.shape == [0, 3])
      d.backward(gradient: .zeros([0, 3]))
      #expect(w.grad?.scalars == [Double](repeating: 0, count: 12))
    }
    #expect(counter.count == 0)
  }
}
