/// Activation functions as parameter-free modules, so they can sit in a ``Sequential``.

/// max(x, 0).
public final class ReLU<Scalar: TensorScalar>: Module<Scalar> {
  /// A parameter-free activation module.
  public override init() {}
  public override func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> { x.relu() }
}

/// tanh x.
public final class Tanh<Scalar: TensorScalar>: Module<Scalar> {
  /// A parameter-free activation module.
  public override init() {}
  public override func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> { x.tanh() }
}

/// 1 / (1 + e⁻ˣ).
public final class Sigmoid<Scalar: TensorScalar>: Module<Scalar> {
  /// A parameter-free activation module.
  public override init() {}
  public override func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> { x.sigmoid() }
}

/// The Gaussian error linear unit in its tanh form (PyTorch's `nn.GELU(approximate='tanh')`):
///
///     gelu(x) ≈ ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
///
/// That is ``Tensor/gelu(approximate:file:line:)`` with `.tanh`, composed from primitives.
public final class GELU<Scalar: TensorScalar>: Module<Scalar> {
  /// A parameter-free activation module.
  public override init() {}
  public override func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> { x.gelu(approximate: .tanh) }
}
