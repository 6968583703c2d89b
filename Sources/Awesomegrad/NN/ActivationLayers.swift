/// Activation functions as parameter-free modules, so they can sit in a ``Sequential``.

/// max(x, 0).
public final class ReLU<Scalar: TensorScalar>: Module {
  public private(set) var isTraining = true
  public init() {}
  public var namedParameters: [(name: String, tensor: Tensor<Scalar>)] { [] }
  public func setTraining(_ training: Bool) { isTraining = training }
  public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> { x.relu() }
}

/// tanh x.
public final class Tanh<Scalar: TensorScalar>: Module {
  public private(set) var isTraining = true
  public init() {}
  public var namedParameters: [(name: String, tensor: Tensor<Scalar>)] { [] }
  public func setTraining(_ training: Bool) { isTraining = training }
  public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> { x.tanh() }
}

/// 1 / (1 + e⁻ˣ).
public final class Sigmoid<Scalar: TensorScalar>: Module {
  public private(set) var isTraining = true
  public init() {}
  public var namedParameters: [(name: String, tensor: Tensor<Scalar>)] { [] }
  public func setTraining(_ training: Bool) { isTraining = training }
  public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> { x.sigmoid() }
}

/// The Gaussian error linear unit in its tanh form (PyTorch's `GELU(approximate: "tanh")`):
///
///     gelu(x) ≈ ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
///
/// Composed from primitives, so its gradient comes from theirs.
public final class GELU<Scalar: TensorScalar>: Module {
  public private(set) var isTraining = true
  public init() {}
  public var namedParameters: [(name: String, tensor: Tensor<Scalar>)] { [] }
  public func setTraining(_ training: Bool) { isTraining = training }
  public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    let c = Scalar((2 / Double.pi).squareRoot())
    let inner = c * (x + Scalar(0.044715) * x * x * x)
    return Scalar(0.5) * x * (1 + inner.tanh())
  }
}
