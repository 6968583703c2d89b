/// User-defined differentiable ops, the counterpart of PyTorch's `torch.autograd.Function`.
///
/// An op is a forward function on the inputs' values and a pullback that maps the output's gradient
/// to the inputs' gradients, both on ``Storage`` (values without a graph). The engine records the op
/// like a built-in one: its name appears in errors and graph pictures, the inputs' versions are
/// checked before the pullback runs, and the gradients' shapes are checked against the inputs'.
///
/// ```swift
/// /// y = x³, ∂y/∂x = 3x²
/// func cube(_ x: Tensor<Double>) -> Tensor<Double> {
///   Tensor.custom("cube", inputs: [x]) { inputs in
///     inputs[0].mapped { $0 * $0 * $0 }
///   } pullback: { upstream, inputs, _ in
///     [upstream.zip(inputs[0]) { g, x in g * 3 * x * x }]
///   }
/// }
/// #expect(checkGradients(of: { cube($0[0]) }, at: [x]).passed)
/// ```
extension Tensor {
  /// A differentiable op defined by its forward values and its pullback.
  ///
  /// - Parameters:
  ///   - name: the op's name, shown in errors and graph pictures.
  ///   - inputs: the tensor inputs.
  ///   - file: the caller's file (`#fileID`), named in error messages and by anomaly mode.
  ///   - line: the caller's line.
  ///   - forward: computes the output values from the inputs' values.
  ///   - pullback: given ∂L/∂output, the inputs' and the output's values, returns ∂L/∂input for each
  ///     input, in order, each of its input's shape; nil for an input that gets no gradient.
  public static func custom(
    _ name: StaticString, inputs: [Tensor], file: StaticString = #fileID, line: UInt = #line,
    forward: ([Storage<Scalar>]) -> Storage<Scalar>,
    pullback:
      @escaping (
        _ upstream: Storage<Scalar>, _ inputs: [Storage<Scalar>], _ output: Storage<Scalar>
      ) -> [Storage<Scalar>?]
  ) -> Tensor {
    let values = inputs.map(\.storage)
    let output = forward(values)
    return Tensor(output, op: name, parents: inputs, file: file, line: line) { g in
      let grads = pullback(g, values, output)
      if grads.count != values.count {
        shapeFailure(
          "\(name)", "the pullback returned \(grads.count) gradients for \(values.count) inputs",
          shapes: values.map(\.shape), file: file, line: line)
      }
      for (grad, value) in zip(grads, values) where grad != nil && grad!.shape != value.shape {
        shapeFailure(
          "\(name)", "the pullback returned a gradient of the wrong shape",
          shapes: [grad!.shape, value.shape], file: file, line: line)
      }
      return grads
    }
  }
}
