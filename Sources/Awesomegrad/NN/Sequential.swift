/// Modules applied one after another: y = fₙ(…f₂(f₁(x))).
///
/// Parameters are named by the layer's index, as in PyTorch's `nn.Sequential`: `0.weight`, `0.bias`,
/// `2.weight`, … (a parameter-free activation at index 1 takes up its index without names).
public final class Sequential<Scalar: TensorScalar>: Module {
  /// The layers, in order. Any module with the same scalar type fits.
  public let layers: [any Module<Scalar>]
  public private(set) var isTraining = true

  public init(_ layers: [any Module<Scalar>]) {
    self.layers = layers
  }

  public convenience init(_ layers: any Module<Scalar>...) {
    self.init(layers)
  }

  public var namedParameters: [(name: String, tensor: Tensor<Scalar>)] {
    var result: [(name: String, tensor: Tensor<Scalar>)] = []
    for (index, layer) in layers.enumerated() {
      for (name, tensor) in layer.namedParameters {
        result.append((joinedName(String(index), name), tensor))
      }
    }
    return result
  }

  public var parameters: [Tensor<Scalar>] { layers.flatMap { $0.parameters } }

  public func setTraining(_ training: Bool) {
    isTraining = training
    for layer in layers { layer.setTraining(training) }
  }

  public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    var y = x
    for layer in layers { y = layer(y) }
    return y
  }
}
