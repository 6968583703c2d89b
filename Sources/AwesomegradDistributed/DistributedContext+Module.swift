import Awesomegrad

// Conveniences that take a model instead of its parameter list. This is the only file of the module
// that names `Module`; everything else works on `[Tensor<Scalar>]`.

extension DistributedContext {
  /// Copies `root`'s parameter values of `model` to every rank: `broadcastParameters(of:
  /// model.parameters, root:)`.
  public func broadcastParameters<M: Module>(of model: M, root: Int = 0) throws(DistributedError) {
    try broadcastParameters(of: model.parameters, root: root)
  }

  /// Replaces the gradient of each of `model`'s parameters by its mean over the ranks:
  /// `averageGradients(of: model.parameters)`.
  public func averageGradients<M: Module>(of model: M) throws(DistributedError) {
    try averageGradients(of: model.parameters)
  }
}
