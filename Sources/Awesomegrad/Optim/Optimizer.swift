/// Updates parameters in place from their gradients.
///
/// An optimizer is given the parameters once, at creation (usually `model.parameters`), and keeps any
/// per-parameter state (momentum, Adam moments) in arrays indexed by each parameter's position in that
/// list: no global registry, no identity lookups. A parameter whose gradient is nil is skipped, as in
/// PyTorch.
///
/// ```swift
/// let optimizer = Adam(model.parameters, learningRate: 1e-3)
/// for batch in batches {
///   optimizer.zeroGrad()
///   crossEntropy(model(x), labels: y).backward()
///   optimizer.step()
/// }
/// ```
public protocol Optimizer<Scalar>: AnyObject {
  associatedtype Scalar: TensorScalar

  /// The parameters this optimizer updates, in the order given at creation.
  var parameters: [Tensor<Scalar>] { get }

  /// The step size. A schedule sets it before each step.
  var learningRate: Double { get set }

  /// Applies one update to every parameter that has a gradient.
  func step()
}

extension Optimizer {
  /// Clears the gradient of every parameter.
  public func zeroGrad() {
    for p in parameters { p.zeroGrad() }
  }
}
