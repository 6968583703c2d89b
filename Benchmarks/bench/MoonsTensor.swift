import Awesomegrad

/// micrograd's moons demo step on `Tensor<Double>`: the whole batch of 100 points at once.
///
/// scores = MLP(2, [16, 16, 1]) with ReLU hidden layers,
/// loss = mean(relu(1 − yᵢ·scoreᵢ)) + 1e-4·Σ p², then backward and an SGD update in place.
final class MoonsTensor: Workload {
  static let name = "moons-tensor"
  static let engine = "awesomegrad"
  static let dtype = "float64"
  static let defaultSteps = 1000
  static let warmUpSteps = 20

  let x: Tensor<Double>
  let y: Tensor<Double>
  let model: DenseNetwork<Double>
  let learningRate = 0.05

  init() {
    var rng = SeededGenerator(seed: 0)
    let data = MoonsData(count: 100, using: &rng)
    x = Tensor(data.points.flatMap { $0 }, shape: [100, 2])
    y = Tensor(data.labels, shape: [100, 1])
    // micrograd's Neuron draws weights from uniform(−1, 1).
    model = DenseNetwork(sizes: [2, 16, 16, 1], activation: { $0.relu() }, initScale: { _ in 1 }, using: &rng)
  }

  func step() {
    let scores = model(x)  // [100, 1]
    let dataLoss = (1 - y * scores).relu().mean()
    var squares = (model.parameters[0] * model.parameters[0]).sum()
    for p in model.parameters.dropFirst() { squares = squares + (p * p).sum() }
    let loss = dataLoss + squares * 1e-4
    loss.backward()
    withoutGrad { model.sgdStep(learningRate: learningRate) }
  }
}
