import Micrograd
import Testing

@Suite struct NNTests {
  /// MLP(2, [16, 16, 1]) has 16·(2+1) + 16·(16+1) + 1·(16+1) = 48 + 272 + 17 = 337 parameters.
  @Test func parameterCount() {
    var rng = SplitMix(seed: 0)
    let model = MLP(2, [16, 16, 1], using: &rng)
    #expect(model.parameters.count == 337)
    #expect(model.layers.map { $0.neurons.count } == [16, 16, 1])
  }

  /// Weights in [−1, 1], biases 0, the same network for the same seed, a different one otherwise.
  @Test func initialisation() {
    var a = SplitMix(seed: 42), b = SplitMix(seed: 42), c = SplitMix(seed: 43)
    let m1 = MLP(3, [5, 2], using: &a), m2 = MLP(3, [5, 2], using: &b), m3 = MLP(3, [5, 2], using: &c)
    for layer in m1.layers {
      for neuron in layer.neurons {
        #expect(neuron.bias.data == 0)
        #expect(neuron.weights.allSatisfy { (-1...1).contains($0.data) })
      }
    }
    #expect(m1.parameters.map(\.data) == m2.parameters.map(\.data))
    #expect(m1.parameters.map(\.data) != m3.parameters.map(\.data))
  }

  /// Parameters come per layer, per neuron: weights then bias; `MLP(parameters:)` reads that order.
  @Test func parameterOrderRoundTrips() {
    let count: Int = 3 * (2 + 1) + 1 * (3 + 1)
    let values: [Double] = (0..<count).map { Double($0) }
    let model = MLP(2, [3, 1], parameters: values.map { $0 / 10 })
    #expect(model.parameters.map(\.data) == values.map { $0 / 10 })
    #expect(model.layers[0].neurons[1].weights.map(\.data) == [0.3, 0.4])
    #expect(model.layers[0].neurons[1].bias.data == 0.5)
    #expect(model.layers[0].neurons[0].isNonlinear && !model.layers[1].neurons[0].isNonlinear)
  }

  /// neuron(x) = relu(b + w₀x₀ + w₁x₁) = relu(0.5 + 2·3 − 1·4) = 2.5;  ∂/∂w = x, ∂/∂b = 1, ∂/∂x = w.
  @Test func neuronForwardAndBackward() {
    let neuron = Neuron(weights: [2, -1], bias: 0.5)
    let x = [Value(3), Value(4)]
    let y = neuron(x)
    y.backward()
    #expect(y.data == 2.5)
    #expect(neuron.weights.map(\.grad) == [3, 4])
    #expect(neuron.bias.grad == 1)
    #expect(x.map(\.grad) == [2, -1])
    #expect(neuron([3.0, 4.0]).data == 2.5)
    // Below zero the relu cuts the gradient: relu(0.5 + 2·(−3) − 4) = 0.
    neuron.zeroGrad()
    neuron([Value(-3), Value(4)]).backward()
    #expect(neuron.parameters.allSatisfy { $0.grad == 0 })
  }

  /// zeroGrad on a module clears every parameter's gradient.
  @Test func zeroGradClearsParameters() {
    var rng = SplitMix(seed: 1)
    let model = MLP(2, [4, 1], using: &rng)
    model([1.0, 2.0])[0].backward()
    #expect(model.parameters.contains { $0.grad != 0 })
    model.zeroGrad()
    #expect(model.parameters.allSatisfy { $0.grad == 0 })
  }
}
