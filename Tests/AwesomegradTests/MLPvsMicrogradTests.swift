import AwesomegradDatasets
import Micrograd
import Testing

@testable import Awesomegrad

@Suite struct MLPvsMicrogradTests {
  /// micrograd's moons loss on both engines with the same weights: MLP(2, [16, 16, 1]) (ReLU hidden,
  /// linear output), loss = (1/n)·Σ relu(1 − yᵢ·scoreᵢ) + 1e-4·Σ θ². Values and every parameter's
  /// gradient agree to 1e-10. micrograd orders parameters per layer, per neuron, weights then bias;
  /// a tensor Linear layer holds the same numbers as weight [out, in] (row i = neuron i) and bias [out].
  @Test func sameLossAndGradients() {
    var rng = SeededGenerator(seed: 42)
    let (x, labels) = moons(n: 20, noise: 0.1, as: Double.self, using: &rng)
    let y = labels.map { Double($0 * 2 - 1) }
    let scalar = Micrograd.MLP(2, [16, 16, 1], using: &rng)

    // The tensor model over the same numbers.
    let sizes = [2, 16, 16, 1]
    var layers: [Awesomegrad.Module<Double>] = []
    var next = 0
    let values = scalar.parameters.map(\.data)
    for l in 0..<3 {
      let (inputs, outputs) = (sizes[l], sizes[l + 1])
      var weight: [Double] = [], bias: [Double] = []
      for _ in 0..<outputs {
        weight += values[next..<(next + inputs)]
        bias.append(values[next + inputs])
        next += inputs + 1
      }
      layers.append(Linear(weight: Tensor(weight, shape: [outputs, inputs]), bias: Tensor(bias)))
      if l < 2 { layers.append(ReLU<Double>()) }
    }
    let tensorModel = Sequential(layers)

    // Scalar engine.
    let xs = x.scalars
    var dataLoss = Value(0)
    for i in 0..<20 {
      let score = scalar([xs[2 * i], xs[2 * i + 1]])[0]
      dataLoss = dataLoss + (1 + -y[i] * score).relu()
    }
    var l2 = Value(0)
    for p in scalar.parameters { l2 = l2 + p * p }
    let scalarLoss = dataLoss * (1.0 / 20) + 1e-4 * l2
    scalarLoss.backward()

    // Tensor engine.
    let scores = tensorModel(x)
    var tensorL2 = Tensor<Double>(scalar: 0)
    for p in tensorModel.parameters { tensorL2 = tensorL2 + (p * p).sum() }
    let tensorLoss = (1 - Tensor(y, shape: [20, 1]) * scores).relu().mean() + 1e-4 * tensorL2
    tensorLoss.backward()

    #expect(abs(tensorLoss.item() - scalarLoss.data) < 1e-10)
    // Tensor gradients in micrograd's order.
    var tensorGradients: [Double] = []
    for linear in layers.compactMap({ $0 as? Linear<Double> }) {
      let (w, b) = (linear.weight.grad!.scalars, linear.bias!.grad!.scalars)
      for i in 0..<linear.outputs {
        tensorGradients += w[(i * linear.inputs)..<((i + 1) * linear.inputs)]
        tensorGradients.append(b[i])
      }
    }
    let scalarGradients = scalar.parameters.map(\.grad)
    #expect(tensorGradients.count == 337 && scalarGradients.count == 337)
    let worst = zip(tensorGradients, scalarGradients).map { abs($0 - $1) }.max()!
    #expect(worst < 1e-10, "largest gradient difference \(worst)")
  }
}
