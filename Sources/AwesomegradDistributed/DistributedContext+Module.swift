import Awesomegrad

// Conveniences that take a model instead of its parameter list. This is the only file of the module
// that names `Module`; everything else works on `[Tensor<Scalar>]`.

extension DistributedContext {
  /// Copies `root`'s parameter values of `model` to every rank: `broadcastParameters(of:
  /// model.parameters, root:)`. Buffers (running statistics) are broadcast too, and so are integer
  /// buffers (batch norm's `num_batches_tracked`), exactly, so that every rank starts from the same
  /// state.
  public func broadcastParameters<Scalar: TensorScalar>(
    of model: Module<Scalar>, root: Int = 0
  ) throws(DistributedError) {
    try broadcastParameters(of: model.parameters + model.namedBuffers.map(\.tensor), root: root)
    try broadcastIntegers(model.namedIntegerBuffers.map(\.buffer), root: root)
  }

  /// Replaces the gradient of each of `model`'s parameters by its mean over the ranks:
  /// `averageGradients(of: model.parameters)`.
  public func averageGradients<Scalar: TensorScalar>(of model: Module<Scalar>) throws(DistributedError) {
    try averageGradients(of: model.parameters)
  }
}
