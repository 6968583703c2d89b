import Awesomegrad

/// One SGD step of an MLP 784-512-512-10 with tanh on a batch of 256, cross-entropy loss, Float.
/// Inputs and labels are random (seeded): the cost of a step does not depend on the values.
final class MLP784: Workload {
  static let name = "mlp-784"
  static let engine = "awesomegrad"
  static let dtype = "float32"
  static let defaultSteps = 50
  static let warmUpSteps = 5

  static let sizes = [784, 512, 512, 10]
  static let batch = 256

  let x: Tensor<Float>
  let labels: [Int]
  let model: DenseNetwork<Float>

  init() {
    var rng = SeededGenerator(seed: 0)
    x = Tensor<Float>.randomNormal([Self.batch, Self.sizes[0]], using: &rng)
    labels = (0..<Self.batch).map { _ in Int.random(in: 0..<10, using: &rng) }
    model = DenseNetwork(
      sizes: Self.sizes, activation: { $0.tanh() }, initScale: { 1 / Float($0).squareRoot() }, using: &rng)
  }

  func step() {
    let loss = crossEntropy(model(x), labels: labels)
    loss.backward()
    withoutGrad { model.sgdStep(learningRate: 0.01) }
  }

  /// Three products per layer (forward, ∂input, ∂weight), each 2·m·n·k.
  var flopsPerStep: Double? {
    zip(Self.sizes, Self.sizes.dropFirst()).reduce(0) { total, layer in
      total + 3 * 2 * Double(Self.batch) * Double(layer.0) * Double(layer.1)
    }
  }
}
