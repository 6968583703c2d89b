import Foundation
import Testing

@testable import Awesomegrad

/// The largest |finite difference − analytic gradient| over the parameters of `model` for
/// loss = crossEntropy(model(x), labels), with central differences of step 1e-6 (Double).
func worstGradientError(_ model: Module<Double>, _ x: Tensor<Double>, _ labels: [Int]) -> Double {
  model.zeroGrad()
  crossEntropy(model(x), labels: labels).backward()
  var worst = 0.0
  for p in model.parameters {
    let analytic = p.grad!.scalars
    for i in 0..<p.count {
      let old = p.storage.buffer.base[i]
      p.storage.buffer.base[i] = old + 1e-6
      let up = withoutGrad { crossEntropy(model(x), labels: labels).item() }
      p.storage.buffer.base[i] = old - 1e-6
      let down = withoutGrad { crossEntropy(model(x), labels: labels).item() }
      p.storage.buffer.base[i] = old
      worst = max(worst, abs((up - down) / 2e-6 - analytic[i]))
    }
  }
  return worst
}

@Suite struct ModuleTests {
  /// nn.Sequential(Linear(3, 4), ReLU(), Linear(4, 2)) names its parameters 0.weight, 0.bias,
  /// 2.weight, 2.bias; activations take an index but have no parameters.
  @Test func sequentialNamesMatchPyTorch() {
    var rng = SeededGenerator(seed: 0)
    let model = Sequential<Float>(
      Linear(inputs: 3, outputs: 4, using: &rng), ReLU(),
      Linear(inputs: 4, outputs: 2, bias: false, using: &rng))
    #expect(model.namedParameters.map(\.name) == ["0.weight", "0.bias", "2.weight"])
    #expect(model.namedParameters.map(\.tensor.shape) == [[4, 3], [4], [2, 4]])
    #expect(model.parameterCount == 12 + 4 + 8)
    #expect(model(Tensor.ones([5, 3])).shape == [5, 2])
  }

  /// train()/eval() reach every module inside, including a Dropout nested in a Sequential.
  @Test func trainAndEvalPropagate() {
    var rng = SeededGenerator(seed: 0)
    let dropout = Dropout<Float>(probability: 0.5, using: &rng)
    let model = Sequential<Float>(Linear(inputs: 2, outputs: 2, using: &rng), dropout)
    #expect(model.isTraining && dropout.isTraining)
    model.eval()
    #expect(!model.isTraining && !dropout.isTraining)
    model.train()
    #expect(dropout.isTraining)
  }

  /// Inverted dropout with p = 0.25: every output is 0 or x/0.75; about a quarter are 0; eval is
  /// the identity; gradients flow only through kept elements, scaled by 1/0.75.
  @Test func dropout() {
    var rng = SeededGenerator(seed: 1)
    let layer = Dropout<Double>(probability: 0.25, using: &rng)
    let x = Tensor<Double>.full([100, 100], 2, requiresGrad: true)
    let y = layer(x)
    let values = y.scalars
    #expect(values.allSatisfy { $0 == 0 || $0 == 2 / 0.75 })
    let dropped = Double(values.filter { $0 == 0 }.count) / 10_000
    #expect(abs(dropped - 0.25) < 0.02)
    y.sum().backward()
    #expect(zip(x.grad!.scalars, values).allSatisfy { g, v in g == (v == 0 ? 0 : 1 / 0.75) })
    layer.eval()
    #expect(layer(x) === x)
  }

  /// Two Dropout layers made from generators with the same seed drop the same elements.
  @Test func dropoutIsReproducible() {
    var a = SeededGenerator(seed: 9), b = SeededGenerator(seed: 9)
    let x = Tensor<Float>.ones([64])
    let first = Dropout<Float>(probability: 0.5, using: &a)(x).scalars
    #expect(first == Dropout<Float>(probability: 0.5, using: &b)(x).scalars)
  }

  /// ReLU, Tanh, Sigmoid at x = [−1, 0, 2]; GELU (tanh form) at 1: ½(1 + tanh(√(2/π)·1.044715)).
  @Test func activations() {
    let x = Tensor<Double>([-1, 0, 2])
    #expect(ReLU()(x).scalars == [0, 0, 2])
    #expect(Tanh()(x).scalars == [Foundation.tanh(-1), 0, Foundation.tanh(2)])
    #expect(
      zip(Sigmoid()(x).scalars, [1 / (1 + Foundation.exp(1)), 0.5, 1 / (1 + Foundation.exp(-2))]).allSatisfy {
        abs($0 - $1) < 1e-15
      })
    let gelu = GELU<Double>()(Tensor([1, 0, -3])).scalars
    let expected = [0.5 * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * 1.044715)), 0, -0.00363739]
    #expect(abs(gelu[0] - expected[0]) < 1e-15 && gelu[1] == 0 && abs(gelu[2] - expected[2]) < 1e-8)
  }

  /// Gradients through Sequential with every activation agree with finite differences.
  @Test(arguments: Activation.allCases)
  func gradientsMatchFiniteDifferences(activation: Activation) {
    var rng = SeededGenerator(seed: 2)
    let model = MLP<Double>(inputs: 3, hiddenSizes: [5, 4], outputs: 3, activation: activation, using: &rng)
    let x = Tensor<Double>.randomNormal([6, 3], using: &rng)
    #expect(worstGradientError(model, x, [0, 1, 2, 2, 1, 0]) < 1e-8)
  }
}
