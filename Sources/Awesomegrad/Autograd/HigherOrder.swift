/// PyTorch's `torch.autograd.functional`: Hessian-vector and Jacobian-vector products, and whole
/// Jacobians and Hessians for small inputs, built on ``gradients(of:at:gradient:createGraph:retainGraph:file:line:)``
/// with `createGraph`.
///
/// Each helper calls `f` on its own leaves over the inputs' values (as PyTorch's functional API
/// detaches its inputs), unless `createGraph` is on: then an input that requires grad is used as it
/// is, so that the result stays differentiable with respect to it (the gradient of an HVP).

/// Hessian-vector product: f's value and H·v, with H the Hessian of the scalar f at `inputs` (all
/// inputs together, mixed terms included) and v = `direction`: PyTorch's
/// `torch.autograd.functional.hvp(f, inputs, v)`.
///
///     (H·v)ᵢ = ∂/∂xᵢ Σⱼ ⟨∂f/∂xⱼ, vⱼ⟩
///
/// Two backward passes, the first with `createGraph`; H is never formed.
///
/// ```swift
/// // f(x) = Σ x³: H = diag(6x), so H·v = 6x ⊙ v.
/// let x = Tensor<Double>([1, 2], shape: [2]), v = Tensor<Double>([1, 1], shape: [2])
/// let (_, hv) = hessianVectorProduct(of: { ($0[0] * $0[0] * $0[0]).sum() }, at: [x], direction: [v])
/// // hv[0] = [6, 12]
/// ```
///
/// - Parameters:
///   - f: a function of the inputs with one element.
///   - inputs: where to evaluate.
///   - direction: v, one tensor per input, of its shape.
///   - createGraph: record the second pass too, so that H·v can be differentiated again (third
///     order), with respect to the inputs that require grad.
///   - file: the caller's file (`#fileID`), named in error messages.
///   - line: the caller's line.
/// - Returns: f's value and H·v, one tensor per input.
public func hessianVectorProduct<Scalar: TensorScalar>(
  of f: ([Tensor<Scalar>]) -> Tensor<Scalar>, at inputs: [Tensor<Scalar>], direction: [Tensor<Scalar>],
  createGraph: Bool = false, file: StaticString = #fileID, line: UInt = #line
) -> (value: Tensor<Scalar>, product: [Tensor<Scalar>]) {
  checkDirections(direction, against: inputs, op: "hessianVectorProduct", file: file, line: line)
  let leaves = functionalLeaves(inputs, createGraph: createGraph)
  let value = f(leaves)
  if value.count != 1 {
    shapeFailure(
      "hessianVectorProduct", "f must return one element", shapes: [value.shape], file: file, line: line)
  }
  let first = gradients(of: value, at: leaves, createGraph: true, file: file, line: line)
  let product = gradients(
    of: innerProduct(first, direction), at: leaves, createGraph: createGraph, file: file, line: line)
  return (createGraph ? value : value.detached(), product)
}

/// Jacobian-vector product (forward mode): f's value and J·v, with J the Jacobian of f at `inputs`
/// and v = `direction`: PyTorch's `torch.autograd.functional.jvp(f, inputs, v)`.
///
/// Computed by the double-vjp trick, not by a forward-mode pass: with w a dummy upstream gradient
/// that requires grad, uᵀ = wᵀ·J is linear in w, and the gradient of ⟨u, v⟩ with respect to w is
/// J·v. It costs two backward passes (the first with `createGraph`) instead of one forward pass.
///
/// ```swift
/// // f(x) = x², elementwise: J = diag(2x), so J·v = 2x ⊙ v.
/// let x = Tensor<Double>([1, 2], shape: [2]), v = Tensor<Double>([1, 3], shape: [2])
/// let (_, jv) = jacobianVectorProduct(of: { $0[0] * $0[0] }, at: [x], direction: [v])
/// // jv = [2, 12]
/// ```
///
/// - Parameters:
///   - f: the function.
///   - inputs: where to evaluate.
///   - direction: v, one tensor per input, of its shape.
///   - file: the caller's file (`#fileID`), named in error messages.
///   - line: the caller's line.
/// - Returns: f's value and J·v, of the value's shape.
public func jacobianVectorProduct<Scalar: TensorScalar>(
  of f: ([Tensor<Scalar>]) -> Tensor<Scalar>, at inputs: [Tensor<Scalar>], direction: [Tensor<Scalar>],
  file: StaticString = #fileID, line: UInt = #line
) -> (value: Tensor<Scalar>, product: Tensor<Scalar>) {
  checkDirections(direction, against: inputs, op: "jacobianVectorProduct", file: file, line: line)
  let leaves = functionalLeaves(inputs, createGraph: false)
  let value = f(leaves)
  let dummy = Tensor<Scalar>(Storage(repeating: 0, shape: value.shape), requiresGrad: true)
  let vectorJacobian = gradients(
    of: value, at: leaves, gradient: dummy, createGraph: true, file: file, line: line)
  let product = gradients(of: innerProduct(vectorJacobian, direction), at: [dummy], file: file, line: line)[0]
  return (value.detached(), product)
}

/// The Jacobian of f at `inputs`, one block per input: block i has shape `f's shape + inputs[i]'s
/// shape`, entry (k, j) = ∂f_k/∂(xᵢ)ⱼ. PyTorch's `torch.autograd.functional.jacobian(f, inputs)`.
///
/// One backward pass per element of f's output: for small outputs.
///
/// - Parameters:
///   - f: the function.
///   - inputs: where to evaluate.
///   - file: the caller's file (`#fileID`), named in error messages.
///   - line: the caller's line.
public func jacobian<Scalar: TensorScalar>(
  of f: ([Tensor<Scalar>]) -> Tensor<Scalar>, at inputs: [Tensor<Scalar>],
  file: StaticString = #fileID, line: UInt = #line
) -> [Tensor<Scalar>] {
  let leaves = functionalLeaves(inputs, createGraph: false)
  let value = f(leaves)
  return jacobianRows(of: value, at: leaves, file: file, line: line)
}

/// The Hessian of the scalar f at `inputs`, in blocks: `[i][j]` has shape `inputs[i]'s shape +
/// inputs[j]'s shape`, entry (a, b) = ∂²f/∂(xᵢ)ₐ∂(xⱼ)_b. PyTorch's
/// `torch.autograd.functional.hessian(f, inputs)`.
///
/// The Jacobian of the gradient (taken with `createGraph`): one backward pass per input element,
/// for small inputs.
///
/// - Parameters:
///   - f: a function of the inputs with one element.
///   - inputs: where to evaluate.
///   - file: the caller's file (`#fileID`), named in error messages.
///   - line: the caller's line.
public func hessian<Scalar: TensorScalar>(
  of f: ([Tensor<Scalar>]) -> Tensor<Scalar>, at inputs: [Tensor<Scalar>],
  file: StaticString = #fileID, line: UInt = #line
) -> [[Tensor<Scalar>]] {
  let leaves = functionalLeaves(inputs, createGraph: false)
  let value = f(leaves)
  if value.count != 1 {
    shapeFailure("hessian", "f must return one element", shapes: [value.shape], file: file, line: line)
  }
  let first = gradients(of: value, at: leaves, createGraph: true, file: file, line: line)
  return first.map { jacobianRows(of: $0, at: leaves, file: file, line: line) }
}

/// ∂output/∂inputs as blocks `output.shape + inputs[i].shape`, one backward pass per output element.
func jacobianRows<Scalar>(
  of output: Tensor<Scalar>, at inputs: [Tensor<Scalar>], file: StaticString, line: UInt
) -> [Tensor<Scalar>] {
  var rows = inputs.map { _ in [Scalar]() }
  for k in 0..<output.count {
    var unit = [Scalar](repeating: 0, count: output.count)
    unit[k] = 1
    let row = gradients(
      of: output, at: inputs, gradient: Tensor(Storage(unit, shape: output.shape)), retainGraph: true,
      file: file,
      line: line)
    for i in inputs.indices { rows[i] += row[i].scalars }
  }
  return zip(rows, inputs).map { Tensor(Storage($0, shape: output.shape + $1.shape)) }
}

/// The tensors the functional helpers differentiate at: fresh leaves over the inputs' values, or
/// under `createGraph` an input that requires grad itself, so the result stays connected to it.
func functionalLeaves<Scalar>(_ inputs: [Tensor<Scalar>], createGraph: Bool) -> [Tensor<Scalar>] {
  inputs.map { createGraph && $0.requiresGrad ? $0 : Tensor($0.storage, requiresGrad: true) }
}

/// Σᵢ sum(aᵢ ⊙ bᵢ), recorded.
func innerProduct<Scalar>(_ a: [Tensor<Scalar>], _ b: [Tensor<Scalar>]) -> Tensor<Scalar> {
  var total = Tensor<Scalar>(scalar: 0)
  for (x, y) in zip(a, b) { total = total + (x * y).sum() }
  return total
}

/// Stops unless there is one direction per input, of its shape.
func checkDirections<Scalar>(
  _ direction: [Tensor<Scalar>], against inputs: [Tensor<Scalar>], op: String, file: StaticString, line: UInt
) {
  if direction.count != inputs.count || zip(direction, inputs).contains(where: { $0.shape != $1.shape }) {
    shapeFailure(
      op, "the direction needs one tensor per input, of its shape",
      shapes: inputs.map(\.shape) + direction.map(\.shape), file: file, line: line)
  }
}
