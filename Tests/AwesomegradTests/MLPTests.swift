import AwesomegradDatasets
import Testing

@testable import Awesomegrad

@Suite struct MLPTests {
  /// MLP 784-256-128-10: 784·256 + 256 + 256·128 + 128 + 128·10 + 10 = 235,146 parameters, named as
  /// PyTorch names a module holding `self.layers = nn.Sequential(Linear, ReLU, Linear, ReLU, Linear)`.
  @Test func fashionMNISTShapeAndNames() {
    var rng = SeededGenerator(seed: 0)
    let model = MLP<Float>(inputs: 784, hiddenSizes: [256, 128], outputs: 10, using: &rng)
    #expect(model.parameterCount == 235_146)
    #expect(
      model.namedParameters.map(\.name) == [
        "layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias", "layers.4.weight",
        "layers.4.bias",
      ])
    #expect(
      model.namedParameters.map(\.tensor.shape) == [[256, 784], [256], [128, 256], [128], [10, 128], [10]])
    #expect(model.linearLayers.count == 3)
    #expect(model(Tensor.zeros([2, 784])).shape == [2, 10])
  }

  /// micrograd's MLP(2, [16, 16, 1]): 2·16 + 16 + 16·16 + 16 + 16 + 1 = 337 parameters.
  @Test func microgradShape() {
    var rng = SeededGenerator(seed: 0)
    let model = MLP<Double>(
      inputs: 2, hiddenSizes: [16, 16], outputs: 1, activation: .relu, initialization: .microgradUniform,
      using: &rng)
    #expect(model.parameterCount == 337)
    #expect(
      model.layers.layers.map { String(describing: type(of: $0)) } == [
        "Linear<Double>", "ReLU<Double>", "Linear<Double>", "ReLU<Double>", "Linear<Double>",
      ])
  }

  /// micrograd's moons demo on tensors: MLP(2, [16, 16, 1]) with the SVM max-margin loss
  /// mean(relu(1 − y·score)) + 1e-4·Σ‖θ‖², SGD with lr = 1 − 0.9·k/100, 100 full-batch steps, reaches
  /// 100% training accuracy.
  @Test func moonsReachesFullAccuracy() {
    var rng = SeededGenerator(seed: 1337)
    let (x, labels) = moons(n: 100, noise: 0.1, as: Double.self, using: &rng)
    let y = Tensor(labels.map { Double($0 * 2 - 1) }, shape: [100, 1])  // −1 or +1
    let model = MLP<Double>(
      inputs: 2, hiddenSizes: [16, 16], outputs: 1, initialization: .microgradUniform, using: &rng)
    let optimizer = SGD(model.parameters, learningRate: 1)
    let schedule = LinearDecay(initial: 1.0, final: 0.1, totalSteps: 100)
    var accuracy = 0.0
    for k in 0..<100 {
      let scores = model(x)
      let dataLoss = (1 - y * scores).relu().mean()
      var l2 = Tensor<Double>(scalar: 0)
      for p in model.parameters { l2 = l2 + (p * p).sum() }
      let loss = dataLoss + 1e-4 * l2
      accuracy = Double(zip(scores.scalars, y.scalars).filter { ($0 > 0) == ($1 > 0) }.count) / 100
      optimizer.zeroGrad()
      loss.backward()
      optimizer.learningRate = schedule(k)
      optimizer.step()
    }
    let final = withoutGrad { model(x).scalars }
    let finalAccuracy = Double(zip(final, y.scalars).filter { ($0 > 0) == ($1 > 0) }.count) / 100
    #expect(finalAccuracy == 1.0, "accuracy \(finalAccuracy) (last step \(accuracy))")
  }
}
