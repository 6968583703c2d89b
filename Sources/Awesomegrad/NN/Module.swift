/// A building block of a neural network: a function of one tensor that owns named parameters.
///
/// A module lists its parameters explicitly, with the dotted names PyTorch's `state_dict` gives the
/// equivalent model (`weight`, `bias`, `layers.0.weight`, …). There is no reflection: what
/// ``namedParameters`` returns is exactly what an optimizer updates and a checkpoint saves.
///
/// Modules are classes: a model is one object that training mutates in place (its parameters'
/// values and gradients, its train/eval mode, a dropout generator).
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// let model = MLP<Float>(inputs: 784, hiddenSizes: [256, 128], outputs: 10, using: &rng)
/// let logits = model(x)                    // x: [batch, 784] → [batch, 10]
/// model.namedParameters.map(\.name)         // ["layers.0.weight", "layers.0.bias", "layers.2.weight", …]
/// ```
public protocol Module<Scalar>: AnyObject {
  associatedtype Scalar: TensorScalar

  /// The parameters with their `state_dict` names, in a stable order.
  var namedParameters: [(name: String, tensor: Tensor<Scalar>)] { get }

  /// The parameters in the order of ``namedParameters``, without building their names: what an
  /// optimizer is given and what a training step reads (e.g. for an L2 penalty).
  var parameters: [Tensor<Scalar>] { get }

  /// Whether the module behaves as in training (dropout active) or evaluation.
  var isTraining: Bool { get }

  /// Switches this module, and every module inside it, to training (`true`) or evaluation mode.
  func setTraining(_ training: Bool)

  /// The output for a batch of inputs.
  func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar>
}

extension Module {
  /// The parameters in the order of ``namedParameters``. Modules that hold parameters list them
  /// directly, since building the names on every call costs more than a small training step.
  public var parameters: [Tensor<Scalar>] { namedParameters.map { $0.tensor } }

  /// The total number of scalars in the parameters.
  public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

  /// Clears the gradient of every parameter.
  public func zeroGrad() {
    for tensor in parameters { tensor.zeroGrad() }
  }

  /// Training mode: dropout drops. Returns the module, so `model.train()` reads as a statement.
  @discardableResult public func train() -> Self {
    setTraining(true)
    return self
  }

  /// Evaluation mode: dropout is the identity.
  @discardableResult public func eval() -> Self {
    setTraining(false)
    return self
  }
}

/// `base.name`, or `name` alone when `base` is empty: how PyTorch joins the names of nested modules.
func joinedName(_ base: String, _ name: String) -> String {
  base.isEmpty ? name : base + "." + name
}
