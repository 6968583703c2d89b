import Foundation

/// How a loss combines its per-sample values.
public enum Reduction: String, Sendable, CaseIterable {
  /// The mean over samples (PyTorch's default).
  case mean
  /// The sum over samples.
  case sum
  /// One loss per sample.
  case none
}

/// Cross-entropy between the rows of `logits` and integer class labels, fused with log-softmax for
/// numerical stability: PyTorch's `F.cross_entropy(logits, labels, reduction=…)`.
///
/// For row i with logits zᵢ and label yᵢ:  ℓᵢ = log Σⱼ exp(zᵢⱼ) − zᵢ,yᵢ, computed as
/// m + log Σⱼ exp(zᵢⱼ − m) with m = maxⱼ zᵢⱼ. Its gradient is ∂ℓᵢ/∂zᵢⱼ = softmax(zᵢ)ⱼ − 1[j = yᵢ].
/// It forwards to ``crossEntropy(_:labels:ignoreIndex:labelSmoothing:reduction:file:line:)``, the
/// one implementation, which documents the non-finite rows (PyTorch's rule).
///
/// - Parameters:
///   - logits: `[batch, classes]`.
///   - labels: `batch` class indices in `0..<classes`.
///   - reduction: `.mean` (the default), `.sum` or `.none`.
///   - file: the caller's file (`#fileID`), named in error messages.
///   - line: the caller's line.
/// - Returns: a scalar for `.mean` and `.sum`, `[batch]` for `.none`.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func crossEntropy<Scalar: TensorScalar>(
  _ logits: Tensor<Scalar>, labels: [Int], reduction: Reduction = .mean,
  file: StaticString = #fileID, line: UInt = #line
) -> Tensor<Scalar> {
  crossEntropy(
    logits, labels: IndexTensor(labels, shape: [labels.count], file: file, line: line), reduction: reduction,
    file: file, line: line)
}

extension Reduction {
  /// Combines per-element losses: their mean, their sum, or the tensor itself.
  func apply<Scalar>(to losses: Tensor<Scalar>) -> Tensor<Scalar> {
    switch self {
    case .mean: losses.mean()
    case .sum: losses.sum()
    case .none: losses
    }
  }
}

/// Mean squared error, (prediction − target)², reduced over every element.
///
/// - Parameters: `prediction` and `target` of the same shape (or shapes that broadcast).
/// - Returns: a scalar for `.mean` and `.sum`, the elementwise squares for `.none`.
public func mse<Scalar>(
  _ prediction: Tensor<Scalar>, _ target: Tensor<Scalar>, reduction: Reduction = .mean
) -> Tensor<Scalar> {
  let difference = prediction - target
  return reduction.apply(to: difference * difference)
}

/// Binary cross-entropy between `targets` in [0, 1] and σ(`logits`), fused for stability.
///
/// ℓ = −[t·log σ(x) + (1 − t)·log(1 − σ(x))] = softplus(x) − t·x, with softplus computed as
/// max(x, 0) + log(1 + e^(−|x|)), which is finite for every x. d/dx = σ(x) − t.
///
/// - Parameters: `logits` and `targets` of the same shape.
/// - Returns: a scalar for `.mean` and `.sum`, the elementwise losses for `.none`.
public func binaryCrossEntropyWithLogits<Scalar>(
  _ logits: Tensor<Scalar>, targets: Tensor<Scalar>, reduction: Reduction = .mean
) -> Tensor<Scalar> {
  reduction.apply(to: logits.softplus(threshold: nil) - targets * logits)
}

/// The max-margin (hinge) loss of micrograd's demo: max(0, 1 − y·s) for labels y ∈ {−1, +1} and
/// scores s. Zero once a sample is on the right side with margin 1.
///
/// - Parameters: `scores` and `labels` of the same shape.
/// - Returns: a scalar for `.mean` and `.sum`, the elementwise losses for `.none`.
public func hingeLoss<Scalar>(
  _ scores: Tensor<Scalar>, labels: Tensor<Scalar>, reduction: Reduction = .mean
) -> Tensor<Scalar> {
  reduction.apply(to: (1 - labels * scores).relu())
}
