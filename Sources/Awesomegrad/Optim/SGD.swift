/// Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and L2 weight
/// decay, with exactly `torch.optim.SGD`'s update rule. For each parameter p with gradient g:
///
///     g ← g + λ·p                                  (weight decay λ)
///     b ← g                      on the first step  (momentum μ ≠ 0)
///     b ← μ·b + (1 − τ)·g        afterwards         (dampening τ)
///     g ← g + μ·b  if nesterov,  else  g ← b
///     p ← p − lr·g
public final class SGD<Scalar: TensorScalar>: StatefulOptimizer {
  public let parameters: [Tensor<Scalar>]
  public var learningRate: Double
  /// The momentum μ (0 for plain SGD).
  public let momentum: Double
  /// The dampening τ: the buffer is b ← μ·b + (1 − τ)·g.
  public let dampening: Double
  /// Whether the step uses Nesterov momentum, g + μ·b.
  public let nesterov: Bool
  /// The L2 penalty λ added to the gradient (λ·θ).
  public let weightDecay: Double
  /// The momentum buffer b of each parameter, by position; nil before its first step.
  var momentumBuffers: [Storage<Scalar>?]

  /// An optimizer over `parameters` with PyTorch's `torch.optim.SGD` defaults.
  public init(
    _ parameters: [Tensor<Scalar>], learningRate: Double, momentum: Double = 0, dampening: Double = 0,
    nesterov: Bool = false, weightDecay: Double = 0, file: StaticString = #fileID, line: UInt = #line
  ) {
    if nesterov && !(momentum > 0 && dampening == 0) {
      argumentFailure(
        "SGD", "Nesterov momentum needs momentum > 0 and dampening 0, got momentum \(momentum), dampening "
          + "\(dampening)", file: file, line: line)
    }
    self.parameters = uniqueByIdentity(parameters)
    self.learningRate = learningRate
    self.momentum = momentum
    self.dampening = dampening
    self.nesterov = nesterov
    self.weightDecay = weightDecay
    momentumBuffers = Array(repeating: nil, count: self.parameters.count)
  }

  public func step() {
    for (index, parameter) in parameters.enumerated() {
      guard let grad = parameter.gradStorage else { continue }
      var buffer: UnsafeMutablePointer<Scalar>? = nil
      let isFirstStep = momentumBuffers[index] == nil
      if momentum != 0 {
        if isFirstStep { momentumBuffers[index] = Storage(uninitializedShape: parameter.shape) }
        buffer = momentumBuffers[index]!.buffer.base
      }
      parameter.updateValues { values in
        CPU.sgd(
          values: values.baseAddress!, grad: grad.buffer.base, momentumBuffer: buffer, count: values.count,
          isFirstStep: isFirstStep, learningRate: Scalar(learningRate), momentum: Scalar(momentum),
          dampening: Scalar(dampening), nesterov: nesterov, weightDecay: Scalar(weightDecay))
      }
    }
  }
}

extension SGD {
  /// `i.momentum_buffer` for every parameter i that has one.
  public func stateTensors() -> [String: Tensor<Scalar>] {
    var state: [String: Tensor<Scalar>] = [:]
    for (i, buffer) in momentumBuffers.enumerated() {
      if let buffer { state["\(i).momentum_buffer"] = stateCopy(buffer) }
    }
    return state
  }

  public func loadStateTensors(_ state: [String: Tensor<Scalar>]) throws(OptimizerStateError) {
    var buffers = [Storage<Scalar>?](repeating: nil, count: parameters.count)
    for (key, tensor) in state {
      let (i, field) = try parseStateKey(key, parameterCount: parameters.count)
      guard field == "momentum_buffer" else { throw .unexpectedKey(key) }
      guard tensor.shape == parameters[i].shape else {
        throw .shapeMismatch(name: key, expected: parameters[i].shape, found: tensor.shape)
      }
      buffers[i] = tensor.storage.copy()
    }
    momentumBuffers = buffers
  }
}
