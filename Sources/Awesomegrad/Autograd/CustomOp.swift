/// User-defined differentiable ops, the counterpart of PyTorch's `torch.autograd.Function`.
///
/// An op is a forward function on the inputs' values and a pullback that maps the output's gradient
/// to the inputs' gradients. The engine records the op like a built-in one: its name appears in
/// errors and graph pictures, the inputs' versions are checked before the pullback runs, and the
/// gradients' count and shapes are checked against the inputs'.
///
/// There are two forms. The pullback of the first works on ``Tensor``s, so it can use every op of
/// the library on its gradients (sums over axes, ``Tensor/summed(to:file:line:)`` to undo
/// broadcasting, matmul, the elementwise functions); the second works on ``Storage`` values with
/// `mapped`, `zip` and pointers, for a loop of your own:
///
/// ```swift
/// /// y = tanh(x·Wᵀ + b), one node that keeps only y: with d = g ⊙ (1 − y²),
/// /// ∂L/∂x = d·W, ∂L/∂W = dᵀ·x, ∂L/∂b = Σ over the batch of d.
/// func affineTanh(_ x: Tensor<Double>, _ w: Tensor<Double>, _ b: Tensor<Double>) -> Tensor<Double> {
///   Tensor.custom("affineTanh", inputs: [x, w, b]) { inputs in
///     inputs[0].linear(weight: inputs[1], bias: inputs[2]).tanh()
///   } pullback: { g, inputs, y in
///     let d = g * (1 - y * y)
///     return [d.matmul(inputs[1]), d.matmul(inputs[0], transposeA: true), d.summed(to: inputs[2].shape)]
///   }
/// }
///
/// /// y = x³, ∂y/∂x = 3x², on storages
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
  /// A differentiable op whose forward pass and pullback are written with tensor ops.
  ///
  /// Both closures run with graph recording off (as inside ``withoutGrad(_:)-5c1h3``): the forward
  /// pass on the inputs themselves, the pullback, during ``backward(gradient:retainGraph:file:line:onLeafGradientReady:)``,
  /// on constant tensors over ∂L/∂output and the values the inputs and the output had in the
  /// forward pass. So the op is one node of the graph whatever ops its closures use, and it keeps
  /// only its inputs' and its output's values for backward. Anomaly mode checks the ops inside
  /// both closures, and the gradients the pullback returns.
  ///
  /// Gradients of gradients: under `createGraph` (``backward(gradient:createGraph:retainGraph:file:line:)``,
  /// ``gradients(of:at:gradient:createGraph:retainGraph:file:line:)``) the same pullback runs with
  /// recording on, over the gradient, the inputs and the output as they are in the graph, so that
  /// the gradients it returns can be differentiated again, to any order. A pullback on ``Storage``
  /// cannot be recorded: such an op stops a pass with `createGraph`, naming the op.
  ///
  /// - Parameters:
  ///   - name: the op's name, shown in errors and graph pictures.
  ///   - inputs: the tensor inputs.
  ///   - file: the caller's file (`#fileID`), named in error messages and by anomaly mode.
  ///   - line: the caller's line.
  ///   - forward: computes the output from the inputs.
  ///   - pullback: given ∂L/∂output, the inputs and the output, returns ∂L/∂input for each input,
  ///     in order, each of its input's shape; nil for an input that gets no gradient. Read the
  ///     inputs from its arguments: a tensor that requires grad captured from outside keeps its
  ///     graph alive as long as the op's graph lives.
  public static func custom(
    _ name: StaticString, inputs: [Tensor], file: StaticString = #fileID, line: UInt = #line,
    forward: ([Tensor]) -> Tensor,
    pullback:
      @escaping (_ upstream: Tensor, _ inputs: [Tensor], _ output: Tensor) -> [Tensor?]
  ) -> Tensor {
    let output = withoutGrad { forward(inputs) }.storage
    let values = inputs.map(\.storage)
    return customNode(name, inputs: inputs, output: output, file: file, line: line) { upstream, graph in
      // Under createGraph: the same closure with recording on, over the gradient, the inputs and the
      // output as they are in the graph, so its gradients can be differentiated again.
      if let graph { return graph.record { g, inputs, y in pullback(g, inputs, y) } }
      // Constant leaves over the gradient and the saved values, and no recording: the op stays one
      // node however many ops the closure runs.
      return withoutGrad {
        pullback(Tensor(upstream), values.map { Tensor($0) }, Tensor(output)).map { $0?.storage }
      }
    }
  }

  /// A differentiable op defined by its forward values and its pullback on ``Storage``: loops of your
  /// own over the values (`mapped`, `zip`, pointers), with no tensor objects in between. Such a
  /// pullback cannot be recorded, so it does not support gradients of gradients: a pass with
  /// `createGraph` through it stops, naming the op. The form whose pullback takes tensors does.
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
    // A storage pullback has no tensor form: under createGraph it records nothing, and the pass
    // stops naming the op.
    return customNode(name, inputs: inputs, output: output, file: file, line: line) { g, graph in
      if graph != nil { return [] }
      return pullback(g, values, output)
    }
  }

  /// The node of a custom op, whose pullback's results are checked against the inputs.
  private static func customNode(
    _ name: StaticString, inputs: [Tensor], output: Storage<Scalar>, file: StaticString, line: UInt,
    pullback: @escaping Pullback
  ) -> Tensor {
    let values = inputs.map(\.storage)
    return Tensor(output, op: name, parents: inputs, file: file, line: line) { g, graph in
      let grads = pullback(g, graph)
      if graph != nil { return grads }  // checked by the pass
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
