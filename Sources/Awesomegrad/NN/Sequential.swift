/// Modules applied one after another: y = fₙ(…f₂(f₁(x))).
///
/// Each layer is registered under its index, as in PyTorch's `nn.Sequential`, so parameters are named
/// `0.weight`, `0.bias`, `2.weight`, … (a parameter-free activation at index 1 takes up its index
/// without names).
public final class Sequential<Scalar: TensorScalar>: Module<Scalar> {
  /// The layers, in order. Any module with a one-input forward pass and the same scalar type fits.
  public let layers: [Module<Scalar>]

  /// Applies `layers` in order; each is registered under its index.
  public init(_ layers: [Module<Scalar>]) {
    self.layers = layers
    super.init()
    for (index, layer) in layers.enumerated() { register(String(index), layer) }
  }

  /// Applies `layers` in order: `Sequential(Linear(…), ReLU(), Linear(…))`.
  public convenience init(_ layers: Module<Scalar>...) {
    self.init(layers)
  }

  public override func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    var y = x
    for layer in layers { y = layer(y) }
    return y
  }
}
