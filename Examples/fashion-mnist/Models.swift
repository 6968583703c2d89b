import ArgumentParser
import Awesomegrad

/// The networks `--model` chooses between.
enum ModelKind: String, ExpressibleByArgument, CaseIterable {
  /// MLP 784-256-128-10 with ReLU.
  case mlp
  /// Two 3×3 convolutions with max pooling, then two linear layers (``FashionCNN``).
  case cnn

  /// A freshly initialised model of this kind (PyTorch's default initialisation) and a one-line
  /// description of it.
  func make(using rng: inout SeededGenerator) -> (model: Module<Float>, summary: String) {
    switch self {
    case .mlp:
      let model = MLP<Float>(
        inputs: 784, hiddenSizes: [256, 128], outputs: 10, activation: .relu, using: &rng)
      return (model, "MLP 784-256-128-10, \(model.parameterCount) parameters")
    case .cnn:
      let model = FashionCNN(using: &rng)
      return (
        model,
        "CNN conv(1→32, 3×3)-pool-conv(32→64, 3×3)-pool-3136-128-10, \(model.parameterCount) parameters"
      )
    }
  }
}

/// A small convolutional network for 28×28 grey images:
///
///     conv(1→32, 3×3, pad 1) → ReLU → maxpool 2 → conv(32→64, 3×3, pad 1) → ReLU → maxpool 2
///     → flatten → linear(3136→128) → ReLU → linear(128→10)
///
/// Its layers sit in a `Sequential` registered as `layers`, so the state-dict names are
/// `layers.0.weight`, `layers.3.weight`, `layers.7.weight`, `layers.9.weight` (and biases), as a
/// PyTorch module holding the same `nn.Sequential` under `layers`. It takes the example's rows of
/// 784 pixels, `[batch, 784]`, and views them as `[batch, 1, 28, 28]`.
final class FashionCNN: Module<Float> {
  let layers: Sequential<Float>

  init(using rng: inout SeededGenerator) {
    layers = Sequential(
      Conv2d(inputChannels: 1, outputChannels: 32, kernelSize: 3, padding: 1, using: &rng), ReLU(),
      MaxPool2d(kernelSize: 2),
      Conv2d(inputChannels: 32, outputChannels: 64, kernelSize: 3, padding: 1, using: &rng), ReLU(),
      MaxPool2d(kernelSize: 2), Flatten(),
      Linear(inputs: 3136, outputs: 128, using: &rng), ReLU(),
      Linear(inputs: 128, outputs: 10, using: &rng))
    super.init()
    register("layers", layers)
  }

  /// `[batch, 784]` (or `[batch, 1, 28, 28]`) → logits `[batch, 10]`.
  override func callAsFunction(_ x: Tensor<Float>) -> Tensor<Float> {
    layers(x.reshaped([x.shape[0], 1, 28, 28]))
  }
}
