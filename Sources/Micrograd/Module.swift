/// Something with trainable parameters: a ``Neuron``, a ``Layer`` or an ``MLP`` (micrograd's `Module`).
public protocol Module {
  /// Every trainable ``Value``, in a fixed order (micrograd's `parameters()`).
  var parameters: [Value] { get }
}

extension Module {
  /// Sets the gradient of every parameter to zero; call it before each ``Value/backward()``.
  public func zeroGrad() {
    for p in parameters { p.grad = 0 }
  }
}
