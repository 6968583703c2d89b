/// The nonlinearity between the layers of an ``MLP``.
public enum Activation: String, Sendable, CaseIterable {
  /// The activations: max(x, 0); tanh x; 1 / (1 + e⁻ˣ); and GELU in its tanh form.
  case relu, tanh, sigmoid, gelu

  /// A fresh module computing this activation.
  public func module<Scalar: TensorScalar>(_: Scalar.Type = Scalar.self) -> Module<Scalar> {
    switch self {
    case .relu: ReLU<Scalar>()
    case .tanh: Tanh<Scalar>()
    case .sigmoid: Sigmoid<Scalar>()
    case .gelu: GELU<Scalar>()
    }
  }
}

/// A multilayer perceptron: Linear layers with an activation after every hidden layer and none after
/// the last (the output is logits or a score).
///
/// `MLP(inputs: 2, hiddenSizes: [16, 16], outputs: 1, activation: .relu, initialization: .microgradUniform)`
/// is micrograd's `MLP(2, [16, 16, 1])`. Like a PyTorch module holding `self.layers = nn.Sequential(…)`,
/// its parameters are `layers.0.weight`, `layers.0.bias`, `layers.2.weight`, … (activations sit at the
/// odd indices).
public final class MLP<Scalar: TensorScalar>: Module<Scalar> {
  /// Linear, activation, Linear, activation, …, Linear.
  public let layers: Sequential<Scalar>

  /// A network with freshly drawn weights.
  ///
  /// - Parameters:
  ///   - inputs: the number of input features.
  ///   - hiddenSizes: the width of each hidden layer, in order.
  ///   - outputs: the width of the last layer.
  ///   - activation: the nonlinearity after each hidden layer.
  ///   - initialization: how each ``Linear`` layer draws its weights.
  ///   - generator: the source of the initial weights.
  public init<G: RandomNumberGenerator>(
    inputs: Int, hiddenSizes: [Int], outputs: Int, activation: Activation = .relu,
    initialization: LinearInitialization = .kaimingUniform, using generator: inout G
  ) {
    var modules: [Module<Scalar>] = []
    var width = inputs
    for hidden in hiddenSizes {
      modules.append(
        Linear<Scalar>(inputs: width, outputs: hidden, initialization: initialization, using: &generator))
      modules.append(activation.module(Scalar.self))
      width = hidden
    }
    modules.append(
      Linear<Scalar>(inputs: width, outputs: outputs, initialization: initialization, using: &generator))
    layers = Sequential(modules)
    super.init()
    register("layers", layers)
  }

  /// The Linear layers, first to last.
  public var linearLayers: [Linear<Scalar>] { layers.layers.compactMap { $0 as? Linear<Scalar> } }

  /// x: `[batch, inputs]` → `[batch, outputs]`.
  public override func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> { layers(x) }
}
