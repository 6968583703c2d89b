/// Batch normalisation layers, named as PyTorch's `nn.BatchNorm1d` and `nn.BatchNorm2d` so that a
/// `state_dict` maps by name: parameters `weight` (γ) and `bias` (β); buffers `running_mean`,
/// `running_var` and `num_batches_tracked` (an ``IntegerBuffer``, int64 as in PyTorch, so it counts
/// exactly past 2²⁴ in a `Float` layer).
///
/// In training mode the layer normalises with the batch's statistics (biased variance) and then
/// updates its running estimates in place, with the unbiased variance:
///
///     running_mean ← (1 − momentum)·running_mean + momentum·μ_batch
///     running_var  ← (1 − momentum)·running_var  + momentum·σ²_batch·m/(m − 1)
///     num_batches_tracked ← num_batches_tracked + 1
///
/// (momentum nil: a cumulative average, momentum = 1/num_batches_tracked). In evaluation mode it
/// normalises with the running estimates. ``Module/train(_:)`` and ``Module/eval()`` switch it.
public class BatchNorm<Scalar: TensorScalar>: Module<Scalar> {
  /// γ, `[features]` (ones at creation), or nil when not affine.
  public let weight: Tensor<Scalar>?
  /// β, `[features]` (zeros at creation), or nil when not affine.
  public let bias: Tensor<Scalar>?
  /// The running mean per channel, `[features]`; starts at 0.
  public let runningMean: Tensor<Scalar>
  /// The running (unbiased) variance per channel, `[features]`; starts at 1.
  public let runningVariance: Tensor<Scalar>
  /// The number of training batches seen (`num_batches_tracked`), an exact integer of shape `[]`.
  public let batchesTracked: IntegerBuffer
  /// ε, added to the variance.
  public let eps: Double
  /// The weight of a new batch in the running estimates; nil for a cumulative average.
  public let momentum: Double?
  /// The number of channels.
  public let features: Int
  /// The input ranks the layer accepts, and how to describe them in an error.
  let ranks: Set<Int>, layout: String

  init(
    features: Int, eps: Double, momentum: Double?, affine: Bool, ranks: Set<Int>, layout: String,
    file: StaticString, line: UInt
  ) {
    if features < 1 {
      argumentFailure(
        "\(Self.self)", "features must be positive, got \(features)", file: file, line: line)
    }
    if let momentum, !(0...1).contains(momentum) {
      argumentFailure(
        "\(Self.self)", "momentum must be in [0, 1], got \(momentum)", file: file, line: line)
    }
    (self.features, self.eps, self.momentum, self.ranks, self.layout) = (
      features, eps, momentum, ranks, layout
    )
    weight = affine ? .ones([features]) : nil
    bias = affine ? .zeros([features]) : nil
    runningMean = .zeros([features])
    runningVariance = .ones([features])
    batchesTracked = IntegerBuffer(scalar: 0)
    super.init()
    if let weight { registerParameter("weight", weight) }
    if let bias { registerParameter("bias", bias) }
    registerBuffer("running_mean", runningMean)
    registerBuffer("running_var", runningVariance)
    registerBuffer("num_batches_tracked", batchesTracked)
  }

  /// Normalises `x` (channels on axis 1) with the batch's statistics in training mode, updating the
  /// running estimates, or with the running estimates in evaluation mode.
  public override func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    if !ranks.contains(x.rank) || x.shape[1] != features {
      shapeFailure(
        "\(type(of: self))", "the input must be \(layout) with \(features) channels", shapes: [x.shape],
        file: #fileID, line: #line)
    }
    guard isTraining else {
      return batchNorm(
        x, runningMean: runningMean, runningVariance: runningVariance, weight: weight, bias: bias, eps: eps)
    }
    let result = batchNorm(x, weight: weight, bias: bias, eps: eps)
    // The count is an Int64: in Scalar it would stop at 2²⁴ in Float, and momentum nil with it.
    batchesTracked.values[0] &+= 1
    let factor = Scalar(momentum ?? 1 / Double(batchesTracked.values[0]))
    for (running, batch) in [(runningMean, result.mean), (runningVariance, result.unbiasedVariance)] {
      batch.storage.withUnsafeBufferPointer { b in
        running.updateValues { r in
          for c in 0..<features { r[c] = (1 - factor) * r[c] + factor * b[c] }
        }
      }
    }
    return result.output
  }
}

/// Batch normalisation over `[batch, features]` or `[batch, features, length]`, PyTorch's
/// `nn.BatchNorm1d`. See ``BatchNorm``.
public final class BatchNorm1d<Scalar: TensorScalar>: BatchNorm<Scalar> {
  /// A batch-norm layer over `[batch, features]` or `[batch, features, length]`.
  ///
  /// - Parameters:
  ///   - features: the number of channels C.
  ///   - eps: ε, added to the variance (PyTorch's default 1e-5).
  ///   - momentum: the weight of each new batch in the running estimates (0.1), or nil for a
  ///     cumulative average.
  ///   - affine: whether the layer has γ and β.
  ///   - file: the caller's file (`#fileID`), named in error messages.
  ///   - line: the caller's line.
  public init(
    features: Int, eps: Double = 1e-5, momentum: Double? = 0.1, affine: Bool = true,
    file: StaticString = #fileID, line: UInt = #line
  ) {
    super.init(
      features: features, eps: eps, momentum: momentum, affine: affine, ranks: [2, 3],
      layout: "[batch, features] or [batch, features, length]", file: file, line: line)
  }
}

/// Batch normalisation over `[batch, channels, height, width]`, PyTorch's `nn.BatchNorm2d`. See
/// ``BatchNorm``.
public final class BatchNorm2d<Scalar: TensorScalar>: BatchNorm<Scalar> {
  /// A batch-norm layer over `[batch, features, height, width]`.
  ///
  /// - Parameters:
  ///   - features: the number of channels C.
  ///   - eps: ε, added to the variance (PyTorch's default 1e-5).
  ///   - momentum: the weight of each new batch in the running estimates (0.1), or nil for a
  ///     cumulative average.
  ///   - affine: whether the layer has γ and β.
  ///   - file: the caller's file (`#fileID`), named in error messages.
  ///   - line: the caller's line.
  public init(
    features: Int, eps: Double = 1e-5, momentum: Double? = 0.1, affine: Bool = true,
    file: StaticString = #fileID, line: UInt = #line
  ) {
    super.init(
      features: features, eps: eps, momentum: momentum, affine: affine, ranks: [4],
      layout: "[batch, channels, height, width]", file: file, line: line)
  }
}
