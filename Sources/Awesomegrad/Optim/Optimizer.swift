/// Updates parameters in place from their gradients.
///
/// An optimizer is given the parameters once, at creation (usually `model.parameters`), and keeps any
/// per-parameter state (momentum, Adam moments) in arrays indexed by each parameter's position in that
/// list: no global registry. A parameter listed twice (a tied weight passed by hand) is kept once, by
/// identity, as PyTorch does, so it is stepped once with one state. A parameter whose gradient is nil
/// is skipped, as in PyTorch.
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
  /// The scalar type of the parameters.
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

/// `parameters` with repeats of the same tensor (by identity) removed, first occurrence kept.
func uniqueByIdentity<Scalar>(_ parameters: [Tensor<Scalar>]) -> [Tensor<Scalar>] {
  var seen = Set<ObjectIdentifier>()
  return parameters.filter { seen.insert(ObjectIdentifier($0)).inserted }
}
