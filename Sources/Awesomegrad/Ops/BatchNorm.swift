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
  let xp = x.buffer.base
  for c in 0..<channels {
    var sum = 0.0
    for n in 0..<layout.batch {
      let row = xp + (n * channels + c) * inner
      for i in 0..<inner { sum += Double(row[i]) }
    }
    let mu = sum / Double(m)
    var squares = 0.0
    for n in 0..<layout.batch {
      let row = xp + (n * channels + c) * inner
      for i in 0..<inner {
        let d = Double(row[i]) - mu
        squares += d * d
      }
    }
    mean.buffer.base[c] = Scalar(mu)
    unbiased.buffer.base[c] = Scalar(squares / Double(m - 1))
    inverseStd.buffer.base[c] = Scalar(1 / (squares / Double(m) + eps).squareRoot())
  }
  let gamma = weight?.storage, beta = bias?.storage
  let out = normalize(x, layout, mean: mean, inverseStd: inverseStd, gamma: gamma, beta: beta)

  let parents = [input] + [weight, bias].compactMap { $0 }
  let (needX, needW, needB) = (input.requiresGrad, weight?.requiresGrad ?? false, bias?.requiresGrad ?? false)
  let result = Tensor(out, op: "batchNorm", parents: parents) { g in
    let (sums, scaledSums) = channelSums(g, x, layout, mean: mean, inverseStd: inverseStd)
    var gx: Storage<Scalar>?
    if needX {
      // ∂x = γ·s·(g − Σg/m − x̂·Σg·x̂/m), s = 1/√(σ² + ε)
      gx = Storage<Scalar>(uninitializedShape: x.shape)
      let gp = g.buffer.base, dst = gx!.buffer.base
      for c in 0..<channels {
        let s = inverseStd.buffer.base[c], mu = mean.buffer.base[c]
        let scale = (gamma?.buffer.base[c] ?? 1) * s
        let meanG = sums.buffer.base[c] / Scalar(m), meanGX = scaledSums.buffer.base[c] / Scalar(m)
        for n in 0..<layout.batch {
          let offset = (n * channels + c) * inner
          for i in 0..<inner {
            let xhat = (xp[offset + i] - mu) * s
            dst[offset + i] = scale * (gp[offset + i] - meanG - xhat * meanGX)
          }
        }
      }
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
  let inverseStd = Storage<Scalar>(uninitializedShape: [channels])
  for c in 0..<channels {
    inverseStd.buffer.base[c] = Scalar(
      1 / (Double(runningVariance.storage.buffer.base[c]) + eps).squareRoot())
  }
  let x = input.storage, gamma = weight?.storage, beta = bias?.storage
  let out = normalize(x, layout, mean: mean, inverseStd: inverseStd, gamma: gamma, beta: beta)
  let parents = [input] + [weight, bias].compactMap { $0 }
  let (needX, needW, needB) = (input.requiresGrad, weight?.requiresGrad ?? false, bias?.requiresGrad ?? false)
  return Tensor(out, op: "batchNorm", parents: parents) { g in
    var gx: Storage<Scalar>?
    if needX {
      // ∂x = γ·s·g
      gx = Storage<Scalar>(uninitializedShape: x.shape)
      let gp = g.buffer.base, dst = gx!.buffer.base
      for n in 0..<layout.batch {
        for c in 0..<channels {
          let scale = (gamma?.buffer.base[c] ?? 1) * inverseStd.buffer.base[c]
          let offset = (n * channels + c) * layout.inner
          for i in 0..<layout.inner { dst[offset + i] = scale * gp[offset + i] }
        }
      }
    }
    var grads: [Storage<Scalar>?] = [gx]
    if weight != nil || bias != nil {
      let (sums, scaledSums) = channelSums(g, x, layout, mean: mean, inverseStd: inverseStd)
      if weight != nil { grads.append(needW ? scaledSums : nil) }
      if bias != nil { grads.append(needB ? sums : nil) }
    }
    return grads
  }
}

/// γ·(x − μ)·s + β per channel, with s = 1/√(σ² + ε).
@inline(__always)
func normalize<Scalar: TensorScalar>(
  _ x: Storage<Scalar>, _ layout: ChannelLayout, mean: Storage<Scalar>, inverseStd: Storage<Scalar>,
  gamma: Storage<Scalar>?, beta: Storage<Scalar>?
) -> Storage<Scalar> {
  let out = Storage<Scalar>(uninitializedShape: x.shape)
  let src = x.buffer.base, dst = out.buffer.base
  for n in 0..<layout.batch {
    for c in 0..<layout.channels {
      let s = inverseStd.buffer.base[c], mu = mean.buffer.base[c]
      let scale = (gamma?.buffer.base[c] ?? 1) * s, shift = beta?.buffer.base[c] ?? 0
      let offset = (n * layout.channels + c) * layout.inner
      for i in 0..<layout.inner { dst[offset + i] = (src[offset + i] - mu) * scale + shift }
    }
  }
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
  let gp = g.buffer.base, xp = x.buffer.base
  for c in 0..<layout.channels {
    let s = inverseStd.buffer.base[c], mu = mean.buffer.base[c]
    var sum = 0.0, dot = 0.0
    for n in 0..<layout.batch {
      let offset = (n * layout.channels + c) * layout.inner
      for i in 0..<layout.inner {
        sum += Double(gp[offset + i])
        dot += Double(gp[offset + i]) * Double((xp[offset + i] - mu) * s)
      }
    }
    sums.buffer.base[c] = Scalar(sum)
    scaled.buffer.base[c] = Scalar(dot)
  }
  return (sums, scaled)
}
