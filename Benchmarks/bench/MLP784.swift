import Awesomegrad

/// One SGD step of an MLP 784-512-512-10 with tanh on a batch of 256, cross-entropy loss, Float,
/// written as a user would:
///
///     optimizer.zeroGrad(); crossEntropy(model(x), labels: labels).backward(); optimizer.step()
///
/// Inputs and labels are random (seeded): the cost of a step does not depend on the values. The
/// layers have PyTorch's default initialisation, as `nn.Linear` in the reference.
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
  let model: MLP<Float>
  let optimizer: SGD<Float>

  init() {
    var generator = SeededGenerator(seed: 0)
    x = Tensor<Float>.randomNormal([Self.batch, Self.sizes[0]], using: &generator)
    labels = (0..<Self.batch).map { _ in Int.random(in: 0..<10, using: &generator) }
    model = MLP(inputs: 784, hiddenSizes: [512, 512], outputs: 10, activation: .tanh, using: &generator)
    optimizer = SGD(model.parameters, learningRate: 0.01)
  }

  func step() {
    optimizer.zeroGrad()
    let loss = crossEntropy(model(x), labels: labels)
    loss.backward()
    optimizer.step()
  }

  /// The products of a step, each 2·m·n·k: per layer the forward one and ∂W, and ∂input for every
  /// layer but the first (the data needs no gradient, and neither engine computes it).
  var flopsPerStep: Double? {
    let layers = Array(zip(Self.sizes, Self.sizes.dropFirst()))
    return layers.enumerated().reduce(0) { total, layer in
      let products: Double = layer.offset == 0 ? 2 : 3
      return total + products * 2 * Double(Self.batch) * Double(layer.element.0) * Double(layer.element.1)
    }
  }
}
