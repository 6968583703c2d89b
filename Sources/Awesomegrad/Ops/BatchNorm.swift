/// Batch normalisation as a function, as PyTorch's `torch.nn.functional.batch_norm`, split into its
/// two modes. Channels are axis 1; the statistics of channel c run over the batch axis and every
/// axis after the channels: m = batch · (the product of the trailing sizes) values.
///
/// Training (batch statistics, normalised with the biased variance):
///
///     μ = Σx / m,  σ² = Σ(x − μ)² / m,  x̂ = (x − μ) / √(σ² + ε),  y = γ·x̂ + β
///     ∂β = Σg,  ∂γ = Σg·x̂,  ∂x = γ / √(σ² + ε) · (g − ∂β/m − x̂·∂γ/m)
///
/// Evaluation (running statistics, constants):
///
///     y = γ·(x − running_mean) / √(running_var + ε) + β,  ∂x = γ·g / √(running_var + ε)
///
/// The sums of the statistics are accumulated in Double in both precisions.

/// What batch normalisation in training mode returns: the normalised output, and the batch
/// statistics a module needs to update its running estimates (PyTorch updates
/// `running_mean ← (1 − momentum)·running_mean + momentum·mean`, and likewise `running_var` with
/// the unbiased variance).
public struct BatchNormOutput<Scalar: TensorScalar> {
  /// γ·x̂ + β, the shape of the input; differentiable.
  public let output: Tensor<Scalar>
  /// `[channels]`: the batch mean per channel. A constant (no gradient).
  public let mean: Tensor<Scalar>
  /// `[channels]`: the unbiased batch variance per channel, Σ(x − μ)² / (m − 1). A constant.
  public let unbiasedVariance: Tensor<Scalar>
}

/// The sizes batch normalisation iterates over: x is read as `[batch, channels, inner]`.
struct ChannelLayout {
  var batch: Int, channels: Int, inner: Int
  /// Values per channel: batch · inner.
  var count: Int { batch * inner }

  init(
    _ op: String, _ shape: [Int], weight: [Int]?, bias: [Int]?, extra: [[Int]] = [], file: StaticString,
    line: UInt
  ) {
    let all = [shape] + [weight, bias].compactMap { $0 } + extra
    if shape.count < 2 {
      shapeFailure(op, "the input must be [batch, channels, ...]", shapes: all, file: file, line: line)
    }
    (batch, channels) = (shape[0], shape[1])
    inner = elementCount(Array(shape.dropFirst(2)))
    for parameter in [weight, bias].compactMap({ $0 }) + extra where parameter != [channels] {
      shapeFailure(
        op, "weight, bias and running statistics must be [channels] = [\(channels)]", shapes: all, file: file,
        line: line)
    }
  }
}

/// Batch normalisation with the statistics of this batch (PyTorch's `training=True`).
///
/// - Parameters:
///   - input: `[batch, channels]`, `[batch, channels, length]` or `[batch, channels, height, width]`
///     (any rank ≥ 2; axis 1 is the channel).
///   - weight: γ, `[channels]`, or nil for 1.
///   - bias: β, `[channels]`, or nil for 0.
///   - eps: ε, added to the variance.
///   - file: the caller's file (`#fileID`), named in error messages and by anomaly mode.
///   - line: the caller's line.
/// - Returns: the output and the batch's mean and unbiased variance per channel.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func batchNorm<Scalar: TensorScalar>(
  _ input: Tensor<Scalar>, weight: Tensor<Scalar>?, bias: Tensor<Scalar>?, eps: Double = 1e-5,
  file: StaticString = #fileID, line: UInt = #line
) -> BatchNormOutput<Scalar> {
  let layout = ChannelLayout(
    "batchNorm", input.shape, weight: weight?.shape, bias: bias?.shape, file: file, line: line)
  let (channels, inner, m) = (layout.channels, layout.inner, layout.count)
  if m < 2 {
    shapeFailure(
      "batchNorm", "training needs more than one value per channel (got \(m)); use evaluation mode",
      shapes: [input.shape], file: file, line: line)
  }
  let x = input.storage
  let mean = Storage<Scalar>(uninitializedShape: [channels])
  let unbiased = Storage<Scalar>(uninitializedShape: [channels])
  let inverseStd = Storage<Scalar>(uninitializedShape: [channels])
  CPU.batchNormStatistics(
    x.buffer.base, batch: layout.batch, channels: channels, inner: inner, eps: eps, mean: mean.buffer.base,
    unbiasedVariance: unbiased.buffer.base, inverseStd: inverseStd.buffer.base)
  let gamma = weight?.storage, beta = bias?.storage
  let out = normalize(x, layout, mean: mean, inverseStd: inverseStd, gamma: gamma, beta: beta)

  let parents = [input] + [weight, bias].compactMap { $0 }
  let (needX, needW, needB) = (input.requiresGrad, weight?.requiresGrad ?? false, bias?.requiresGrad ?? false)
  let result = Tensor(out, op: "batchNorm", parents: parents) { g, graph in
    if let graph {
      // Through the definition, per channel over every other axis: x̂ = (x − μ)/√(σ² + eps) with the
      // biased σ², then x̂·γ + β.
      return graph.recordThrough { p in
        let shape = p[0].shape
        let axes = shape.indices.filter { $0 != 1 }
        let channelShape = shape.indices.map { $0 == 1 ? channels : 1 }
        let centered = p[0] - p[0].mean(axes: axes, keepingDimensions: true)
        let variance = (centered * centered).mean(axes: axes, keepingDimensions: true)
        var y = centered / (variance + Scalar(eps)).sqrt()
        if gamma != nil { y = y * p[1].reshaped(channelShape) }
        if beta != nil { y = y + p[gamma != nil ? 2 : 1].reshaped(channelShape) }
        return y
      }
    }
    let (sums, scaledSums) = channelSums(g, x, layout, mean: mean, inverseStd: inverseStd)
    var gx: Storage<Scalar>?
    if needX {
      // ∂x = γ·s·(g − Σg/m − x̂·Σg·x̂/m), s = 1/√(σ² + ε), computed per channel c as
      // scale[c]·(g − meanG[c] − x̂·meanGX[c]).
      let scale = channelScales(gamma, inverseStd, channels: channels)
      let meanG = sums.map { $0 / Scalar(m) }, meanGX = scaledSums.map { $0 / Scalar(m) }
      let grad = Storage<Scalar>(uninitializedShape: x.shape)
      CPU.batchNormInputGradient(
        g.buffer.base, x.buffer.base, mean: mean.buffer.base, inverseStd: inverseStd.buffer.base,
        scale: scale.buffer.base, meanG: meanG.buffer.base, meanGX: meanGX.buffer.base, into: grad.buffer.base,
        batch: layout.batch, channels: channels, inner: inner)
      gx = grad
    }
    var grads: [Storage<Scalar>?] = [gx]
    if weight != nil { grads.append(needW ? scaledSums : nil) }
    if bias != nil { grads.append(needB ? sums : nil) }
    return grads
  }
  return BatchNormOutput(output: result, mean: Tensor(mean), unbiasedVariance: Tensor(unbiased))
}

/// Batch normalisation with given running statistics (PyTorch's `training=False`). The statistics
/// are constants: they get no gradient.
///
/// - Parameters:
///   - input: `[batch, channels, ...]`.
///   - runningMean: the running mean, `[channels]`.
///   - runningVariance: the running (unbiased) variance, `[channels]`.
///   - weight: γ, `[channels]`, or nil for 1.
///   - bias: β, `[channels]`, or nil for 0.
///   - eps: ε, added to the variance.
///   - file: the caller's file (`#fileID`), named in error messages and by anomaly mode.
///   - line: the caller's line.
/// - Returns: the normalised input, its shape.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func batchNorm<Scalar: TensorScalar>(
  _ input: Tensor<Scalar>, runningMean: Tensor<Scalar>, runningVariance: Tensor<Scalar>,
  weight: Tensor<Scalar>?,
  bias: Tensor<Scalar>?, eps: Double = 1e-5, file: StaticString = #fileID, line: UInt = #line
) -> Tensor<Scalar> {
  let layout = ChannelLayout(
    "batchNorm", input.shape, weight: weight?.shape, bias: bias?.shape,
    extra: [runningMean.shape, runningVariance.shape], file: file, line: line)
  let channels = layout.channels
  let mean = runningMean.storage.copy()
  let inverseStd = runningVariance.storage.map { Scalar(1 / (Double($0) + eps).squareRoot()) }
  let x = input.storage, gamma = weight?.storage, beta = bias?.storage
  let out = normalize(x, layout, mean: mean, inverseStd: inverseStd, gamma: gamma, beta: beta)
  let parents = [input] + [weight, bias].compactMap { $0 }
  let (needX, needW, needB) = (input.requiresGrad, weight?.requiresGrad ?? false, bias?.requiresGrad ?? false)
  return Tensor(out, op: "batchNorm", parents: parents) { g, graph in
    if let graph {
      // (x − mean)·s·γ + β with the running statistics constant: affine per channel.
      return graph.recordThrough { p in
        let channelShape = x.shape.indices.map { $0 == 1 ? channels : 1 }
        var y = (p[0] - Tensor(mean.reshaped(channelShape))) * Tensor(inverseStd.reshaped(channelShape))
        if gamma != nil { y = y * p[1].reshaped(channelShape) }
        if beta != nil { y = y + p[gamma != nil ? 2 : 1].reshaped(channelShape) }
        return y
      }
    }
    var gx: Storage<Scalar>?
    if needX {
      // ∂x = γ·s·g
      let grad = Storage<Scalar>(uninitializedShape: x.shape)
      CPU.channelScale(
        g.buffer.base, scale: channelScales(gamma, inverseStd, channels: channels).buffer.base,
        into: grad.buffer.base, batch: layout.batch, channels: channels, inner: layout.inner)
      gx = grad
    }
    var grads: [Storage<Scalar>?] = [gx]
    if (weight != nil && needW) || (bias != nil && needB) {
      let (sums, scaledSums) = channelSums(g, x, layout, mean: mean, inverseStd: inverseStd)
      if weight != nil { grads.append(needW ? scaledSums : nil) }
      if bias != nil { grads.append(needB ? sums : nil) }
    } else {
      if weight != nil { grads.append(nil) }
      if bias != nil { grads.append(nil) }
    }
    return grads
  }
}

/// γ·s per channel (s alone without γ).
@inline(__always)
func channelScales<Scalar: TensorScalar>(
  _ gamma: Storage<Scalar>?, _ inverseStd: Storage<Scalar>, channels: Int
) -> Storage<Scalar> {
  guard let gamma else { return inverseStd }
  return gamma.zipSameShape(inverseStd, *)
}

/// γ·(x − μ)·s + β per channel, with s = 1/√(σ² + ε).
@inline(__always)
func normalize<Scalar: TensorScalar>(
  _ x: Storage<Scalar>, _ layout: ChannelLayout, mean: Storage<Scalar>, inverseStd: Storage<Scalar>,
  gamma: Storage<Scalar>?, beta: Storage<Scalar>?
) -> Storage<Scalar> {
  let out = Storage<Scalar>(uninitializedShape: x.shape)
  let scale = channelScales(gamma, inverseStd, channels: layout.channels)
  let shift = beta ?? Storage(repeating: 0, shape: [layout.channels])
  CPU.channelNormalize(
    x.buffer.base, mean: mean.buffer.base, scale: scale.buffer.base, shift: shift.buffer.base,
    into: out.buffer.base, batch: layout.batch, channels: layout.channels, inner: layout.inner)
  return out
}

/// Per channel: Σg (∂β) and Σg·x̂ (∂γ), with x̂ = (x − μ)·s.
@inline(__always)
func channelSums<Scalar: TensorScalar>(
  _ g: Storage<Scalar>, _ x: Storage<Scalar>, _ layout: ChannelLayout, mean: Storage<Scalar>,
  inverseStd: Storage<Scalar>
) -> (Storage<Scalar>, Storage<Scalar>) {
  let sums = Storage<Scalar>(uninitializedShape: [layout.channels])
  let scaled = Storage<Scalar>(uninitializedShape: [layout.channels])
  CPU.batchNormGradientSums(
    g.buffer.base, x.buffer.base, mean: mean.buffer.base, inverseStd: inverseStd.buffer.base,
    batch: layout.batch, channels: layout.channels, inner: layout.inner, sums: sums.buffer.base,
    scaledSums: scaled.buffer.base)
  return (sums, scaled)
}
