/// The general layers of a transformer: ``Embedding`` and ``LayerNorm``. nanoGPT's blocks
/// (`CausalSelfAttention`, `FeedForward`, `TransformerBlock`) and the GPT live in AwesomegradModels.

/// A lookup table of vectors, PyTorch's `nn.Embedding`: row i of `weight` is the vector of token i.
///
/// - `weight`: `[count, dimensions]`.
/// - Input: token indices of any shape; output: that shape + `[dimensions]`.
public final class Embedding<Scalar: TensorScalar>: Module<Scalar> {
  /// `[count, dimensions]`.
  public let weight: Tensor<Scalar>

  /// A table drawn from N(0, `standardDeviation`²); PyTorch's default is N(0, 1), GPT-2's N(0, 0.02²).
  public init<G: RandomNumberGenerator>(
    count: Int, dimensions: Int, standardDeviation: Scalar = 1, using generator: inout G,
    file: StaticString = #fileID, line: UInt = #line
  ) {
    if count <= 0 || dimensions <= 0 {
      argumentFailure(
        "Embedding", "count and dimensions must be positive, got \(count) and \(dimensions)", file: file,
        line: line)
    }
    weight = .randomNormal([count, dimensions], standardDeviation: standardDeviation, using: &generator)
    super.init()
    registerParameter("weight", weight)
  }

  /// A table over a given weight `[count, dimensions]` (made to require grad), such as a linear
  /// layer's weight that the embedding shares.
  public init(weight: Tensor<Scalar>, file: StaticString = #fileID, line: UInt = #line) {
    if weight.rank != 2 || weight.count == 0 {
      argumentFailure(
        "Embedding", "weight must be a non-empty [count, dimensions], got \(weight.shape)", file: file, line: line)
    }
    self.weight = weight
    super.init()
    registerParameter("weight", weight)
  }

  /// The vectors of `indices`: `indices.shape + [dimensions]`. The gradient of a row accumulates over
  /// every occurrence of its index.
  public func callAsFunction(_ indices: IndexTensor) -> Tensor<Scalar> {
    embedding(indices, weight: weight)
  }
}

/// Layer normalisation over the trailing `normalizedShape` axes, PyTorch's `nn.LayerNorm`:
/// y = (x − μ)/√(σ² + eps) ⊙ weight + bias (see ``layerNorm(_:normalizedShape:weight:bias:eps:file:line:)``).
///
/// - `weight` (ones) and `bias` (zeros, or none with `bias: false`): `normalizedShape`.
public final class LayerNorm<Scalar: TensorScalar>: Module<Scalar> {
  /// The trailing sizes normalised over.
  public let normalizedShape: [Int]
  /// The scale, initially 1.
  public let weight: Tensor<Scalar>
  /// The shift, initially 0; nil for `bias: false`.
  public let bias: Tensor<Scalar>?
  /// Added to the variance.
  public let eps: Double

  /// Normalises over the last axis, of size `dimensions`.
  public convenience init(
    dimensions: Int, eps: Double = 1e-5, bias: Bool = true, file: StaticString = #fileID, line: UInt = #line
  ) {
    self.init(normalizedShape: [dimensions], eps: eps, bias: bias, file: file, line: line)
  }

  /// Normalises over the trailing axes `normalizedShape`.
  public init(
    normalizedShape: [Int], eps: Double = 1e-5, bias: Bool = true, file: StaticString = #fileID, line: UInt = #line
  ) {
    if normalizedShape.isEmpty || normalizedShape.contains(where: { $0 <= 0 }) {
      argumentFailure(
        "LayerNorm", "normalizedShape must be non-empty and positive, got \(normalizedShape)", file: file,
        line: line)
    }
    self.normalizedShape = normalizedShape
    self.eps = eps
    weight = .ones(normalizedShape)
    self.bias = bias ? .zeros(normalizedShape) : nil
    super.init()
    registerParameter("weight", weight)
    if let b = self.bias { registerParameter("bias", b) }
  }

  /// A layer norm over given parameters (made to require grad): `weight` and `bias` (or none) of the
  /// shape normalised over, such as a checkpoint's.
  public init(
    weight: Tensor<Scalar>, bias: Tensor<Scalar>?, eps: Double = 1e-5, file: StaticString = #fileID,
    line: UInt = #line
  ) {
    if weight.rank == 0 || weight.count == 0 || (bias != nil && bias!.shape != weight.shape) {
      argumentFailure(
        "LayerNorm", "weight must be non-empty and bias of its shape, got \(weight.shape) and \(bias?.shape ?? [])",
        file: file, line: line)
    }
    normalizedShape = weight.shape
    self.eps = eps
    self.weight = weight
    self.bias = bias
    super.init()
    registerParameter("weight", weight)
    if let bias { registerParameter("bias", bias) }
  }

  /// `[…, normalizedShape…]` → the same shape.
  public override func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    layerNorm(x, normalizedShape: normalizedShape, weight: weight, bias: bias, eps: eps)
  }
}
