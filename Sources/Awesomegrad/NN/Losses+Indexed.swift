/// Losses over integer class labels (``IndexTensor``), with PyTorch's `ignore_index` and
/// `label_smoothing`, and the robust regression losses `huber_loss` and `l1_loss`.

/// Cross-entropy between the rows of `logits` and class labels: PyTorch's
/// `F.cross_entropy(logits, labels, ignore_index=ignoreIndex, label_smoothing=labelSmoothing, reduction=…)`.
/// This is the one implementation; ``crossEntropy(_:labels:reduction:file:line:)`` with `[Int]`
/// labels forwards here.
///
/// For row i with logits zᵢ, label yᵢ, C classes, smoothing ε and lseᵢ = log Σⱼ exp(zᵢⱼ) (computed
/// stably as m + log Σⱼ exp(zᵢⱼ − m), m = maxⱼ zᵢⱼ):
///
///     ℓᵢ = (1 − ε)·(lseᵢ − zᵢ,yᵢ) + ε·Σⱼ (lseᵢ − zᵢⱼ) / C      (the ε term only when ε > 0)
///     ∂ℓᵢ/∂zᵢⱼ = softmax(zᵢ)ⱼ − (1 − ε)·1[j = yᵢ] − ε/C
///
/// Non-finite rows follow PyTorch (`log_softmax` then `nll_loss`): a row holding a NaN or +∞, or
/// only −∞, has a NaN loss and NaN gradients in every column (m = +∞ or −∞ makes zᵢⱼ − m NaN); a
/// −∞ logit elsewhere has probability 0, and at the label makes the loss +∞ with a finite gradient.
///
/// A row whose label equals `ignoreIndex` has loss 0 and no gradient, and `.mean` divides by the
/// number of rows that are not ignored (NaN when every row is).
///
/// - Parameters:
///   - logits: `[batch, classes]` (reshape `[B, T, V]` to `[B·T, V]`).
///   - labels: `[batch]`, each in `0..<classes` or equal to `ignoreIndex`.
///   - ignoreIndex: a label value whose rows are skipped; nil skips none (PyTorch's default, −100,
///     is never a class either).
///   - labelSmoothing: ε in [0, 1].
///   - reduction: `.mean` (over the rows not ignored), `.sum` or `.none`.
///   - file: the caller's file (`#fileID`), named in error messages and by anomaly mode.
///   - line: the caller's line.
/// - Returns: a scalar for `.mean` and `.sum`, `[batch]` for `.none`.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func crossEntropy<Scalar: TensorScalar>(
  _ logits: Tensor<Scalar>, labels: IndexTensor, ignoreIndex: Int? = nil, labelSmoothing: Double = 0,
  reduction: Reduction = .mean, file: StaticString = #fileID, line: UInt = #line
) -> Tensor<Scalar> {
  let (batch, classes) = checkedClassRows(
    logits, labels, ignoreIndex: ignoreIndex, op: "crossEntropy", file: file, line: line)
  if !(0...1).contains(labelSmoothing) {
    shapeFailure(
      "crossEntropy", "labelSmoothing must be in [0, 1], got \(labelSmoothing)", shapes: [logits.shape],
      file: file, line: line)
  }
  let epsilon = Scalar(labelSmoothing)
  let targets = labels.scalars
  // probabilities = softmax(z), kept for the pullback; rows on the pool (CPU+Softmax.swift).
  let probabilities = Storage<Scalar>(uninitializedShape: [batch, classes])
  let losses = Storage<Scalar>(uninitializedShape: [batch])
  let kept = targets.reduce(0) { $0 + ($1 == ignoreIndex ? 0 : 1) }
  targets.withUnsafeBufferPointer { targets in
    CPU.crossEntropyRows(
      logits.storage.buffer.base, labels: targets, ignored: ignoreIndex, smoothing: epsilon,
      probabilities: probabilities.buffer.base, losses: losses.buffer.base, rows: batch, columns: classes)
  }
  let output = reduced(losses, reduction, count: kept)
  return Tensor(output, op: "crossEntropy", parents: [logits]) { g, graph in
    if let graph {
      // Through its definition: −(1 − ε)·log softmax(z)ᵢ,yᵢ − ε·mean_j log softmax(z)ᵢⱼ per kept row.
      return graph.recordThrough { z in
        let logProbabilities = z[0].logSoftmax(axis: -1)
        var losses = -classRowsPicked(logProbabilities, targets, ignoreIndex: ignoreIndex, classes: classes)
        if epsilon > 0 {
          losses = (1 - epsilon) * losses - epsilon * logProbabilities.mean(axes: [1]) * keptRowsMask(targets, ignoreIndex)
        }
        return reducedLosses(losses, reduction, count: kept)
      }
    }
    let grad = Storage<Scalar>(uninitializedShape: [batch, classes])
    let gp = g.buffer.base
    targets.withUnsafeBufferPointer { targets in
      CPU.crossEntropyBackwardRows(
        probabilities: probabilities.buffer.base, labels: targets, ignored: ignoreIndex, smoothing: epsilon,
        scale: { upstreamScale(gp, $0, reduction, count: kept) }, into: grad.buffer.base, rows: batch,
        columns: classes)
    }
    return [grad]
  }
}

/// The negative log-likelihood of class labels under log-probabilities: PyTorch's
/// `F.nll_loss(logProbabilities, labels, ignore_index=…, reduction=…)`.
///
///     ℓᵢ = −xᵢ,yᵢ,   ∂ℓᵢ/∂xᵢⱼ = −1[j = yᵢ]
///
/// Rows labelled `ignoreIndex` count 0 and are left out of `.mean`'s denominator.
///
/// - Parameters:
///   - logProbabilities: `[batch, classes]`, typically ``Tensor/logSoftmax(axis:file:line:)``'s output.
///   - labels: `[batch]`.
///   - ignoreIndex: a label value whose rows are skipped; nil skips none.
///   - reduction: `.mean` (over the rows not ignored), `.sum` or `.none`.
///   - file: the caller's file (`#fileID`), named in error messages and by anomaly mode.
///   - line: the caller's line.
/// - Returns: a scalar for `.mean` and `.sum`, `[batch]` for `.none`.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func nllLoss<Scalar: TensorScalar>(
  _ logProbabilities: Tensor<Scalar>, labels: IndexTensor, ignoreIndex: Int? = nil,
  reduction: Reduction = .mean, file: StaticString = #fileID, line: UInt = #line
) -> Tensor<Scalar> {
  let (batch, classes) = checkedClassRows(
    logProbabilities, labels, ignoreIndex: ignoreIndex, op: "nllLoss", file: file, line: line)
  let targets = labels.scalars
  let losses = Storage<Scalar>(uninitializedShape: [batch])
  let x = logProbabilities.storage.buffer.base, loss = losses.buffer.base
  var kept = 0
  for i in 0..<batch {
    if targets[i] == ignoreIndex {
      loss[i] = 0
    } else {
      kept += 1
      loss[i] = -x[i * classes + targets[i]]
    }
  }
  let output = reduced(losses, reduction, count: kept)
  return Tensor(output, op: "nllLoss", parents: [logProbabilities]) { g, graph in
    if let graph {
      return graph.recordThrough { x in
        reducedLosses(-classRowsPicked(x[0], targets, ignoreIndex: ignoreIndex, classes: classes), reduction, count: kept)
      }
    }
    let grad = Storage<Scalar>(repeating: 0, shape: [batch, classes])
    let dst = grad.buffer.base, gp = g.buffer.base
    for i in 0..<batch where targets[i] != ignoreIndex {
      dst[i * classes + targets[i]] = -upstreamScale(gp, i, reduction, count: kept)
    }
    return [grad]
  }
}

/// The Huber loss: quadratic for small errors, linear for large ones. PyTorch's
/// `F.huber_loss(prediction, target, delta=…)`. With d = prediction − target,
///
///     ℓ = ½d²           where |d| < δ
///     ℓ = δ·(|d| − ½δ)  elsewhere
///
/// Composed from `where`, so ∂ℓ/∂d = d inside and δ·sign(d) outside.
///
/// - Parameters: `prediction` and `target` of shapes that broadcast; `delta` > 0.
/// - Returns: a scalar for `.mean` and `.sum`, the elementwise losses for `.none`.
public func huberLoss<Scalar>(
  _ prediction: Tensor<Scalar>, _ target: Tensor<Scalar>, delta: Scalar = 1, reduction: Reduction = .mean
) -> Tensor<Scalar> {
  let difference = prediction - target
  let magnitude = difference.abs()
  let losses = Tensor.where(
    magnitude .< delta, 0.5 * difference * difference, delta * (magnitude - 0.5 * delta))
  return reduction.apply(to: losses)
}

/// The mean absolute error |prediction − target|: PyTorch's `F.l1_loss`. ∂/∂prediction = sign(d),
/// taken as 0 at d = 0.
///
/// - Parameters: `prediction` and `target` of shapes that broadcast.
/// - Returns: a scalar for `.mean` and `.sum`, the elementwise losses for `.none`.
public func l1Loss<Scalar>(
  _ prediction: Tensor<Scalar>, _ target: Tensor<Scalar>, reduction: Reduction = .mean
) -> Tensor<Scalar> {
  reduction.apply(to: (prediction - target).abs())
}

/// Checks `[batch, classes]` values against `[batch]` labels in `0..<classes` (or `ignoreIndex`),
/// stopping with `op`'s name; returns the two sizes.
func checkedClassRows<Scalar>(
  _ values: Tensor<Scalar>, _ labels: IndexTensor, ignoreIndex: Int?, op: String, file: StaticString,
  line: UInt
) -> (batch: Int, classes: Int) {
  guard values.rank == 2, labels.shape == [values.shape[0]], values.shape[1] > 0 else {
    shapeFailure(
      op, "needs [batch, classes] values (classes ≥ 1) with labels [batch]",
      shapes: [values.shape, labels.shape],
      file: file, line: line)
  }
  let classes = values.shape[1]
  for (i, label) in labels.scalars.enumerated() where label != ignoreIndex && !(0..<classes).contains(label) {
    shapeFailure(
      op, "label \(label) at row \(i) is outside 0..<\(classes)", shapes: [values.shape], file: file,
      line: line)
  }
  return (values.shape[0], classes)
}

/// Per-row losses combined by `reduction`, where `.mean` divides by `count` (the rows not ignored).
@inline(__always)
func reduced<Scalar>(_ losses: Storage<Scalar>, _ reduction: Reduction, count: Int) -> Storage<Scalar> {
  switch reduction {
  case .none: losses
  case .sum: Storage(repeating: losses.sumAll(), shape: [])
  case .mean: Storage(repeating: losses.sumAll() / Scalar(count), shape: [])
  }
}

/// xᵢ,yᵢ for each row i of `[batch, classes]` values, 0 for a row labelled `ignoreIndex`, as a
/// differentiable gather (the tensor form of the class losses, for gradients of gradients).
func classRowsPicked<Scalar>(_ values: Tensor<Scalar>, _ targets: [Int], ignoreIndex: Int?, classes: Int)
  -> Tensor<Scalar>
{
  let offsets = targets.enumerated().map { i, label in label == ignoreIndex ? i * classes : i * classes + label }
  return values.gatheringElements(at: offsets, shape: [targets.count]) * keptRowsMask(targets, ignoreIndex)
}

/// 1 for a row whose label is not `ignoreIndex`, else 0, as a constant `[batch]` tensor.
func keptRowsMask<Scalar>(_ targets: [Int], _ ignoreIndex: Int?) -> Tensor<Scalar> {
  Tensor(Storage(targets.map { $0 == ignoreIndex ? 0 : 1 }, shape: [targets.count]))
}

/// ``reduced(_:_:count:)`` with tensor ops.
func reducedLosses<Scalar>(_ losses: Tensor<Scalar>, _ reduction: Reduction, count: Int) -> Tensor<Scalar> {
  switch reduction {
  case .none: losses
  case .sum: losses.sum()
  case .mean: losses.sum() / Scalar(count)
  }
}

/// The factor the upstream gradient `g` puts on row i's loss under `reduction`.
@inline(__always)
func upstreamScale<Scalar: TensorScalar>(
  _ g: UnsafePointer<Scalar>, _ i: Int, _ reduction: Reduction, count: Int
) -> Scalar {
  switch reduction {
  case .none: g[i]
  case .sum: g[0]
  case .mean: g[0] / Scalar(count)
  }
}
