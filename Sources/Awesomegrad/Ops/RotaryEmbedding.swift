import Foundation

/// Rotary position embeddings (RoPE) in the `rotate_half` layout of GPT-NeoX and Hugging Face's
/// Llama: dimension i of a head is paired with dimension i + d/2 (not 2i with 2i + 1, as in Meta's
/// original code). For position p and j in 0..<d/2:
///
///     θⱼ = base^(−2j/d),   angle = p·θ duplicated to d (cat(freqs, freqs))
///     rope(x) = x ⊙ cos(angle) + rotate_half(x) ⊙ sin(angle),   rotate_half(x) = cat(−x[d/2:], x[:d/2])
///
/// The rotation is composed from slicing, negation, concatenation and products, so its gradient is
/// theirs (the transposed rotation).
public struct RotaryEmbedding: Sendable, Equatable {
  /// The head dimension d; even.
  public let dimensions: Int
  /// The base θ of the frequencies (`rope_theta`, 10000 in Llama 2).
  public let base: Double

  /// The embedding of heads of `dimensions` (even) with frequency base `base`.
  public init(dimensions: Int, base: Double = 10000, file: StaticString = #fileID, line: UInt = #line) {
    if dimensions <= 0 || dimensions % 2 != 0 || !(base > 0) {
      argumentFailure(
        "RotaryEmbedding", "dimensions must be positive and even and base positive, got \(dimensions), \(base)",
        file: file, line: line)
    }
    self.dimensions = dimensions
    self.base = base
  }

  /// The inverse frequencies θⱼ, j in 0..<d/2. In Float they are computed as `transformers` does,
  /// in float32: 1 / base^(Float(2j)/Float(d)).
  func inverseFrequencies<Scalar: TensorScalar>(as _: Scalar.Type) -> [Double] {
    (0..<dimensions / 2).map { j in
      if Scalar.self == Float.self {
        let exponent = Float(2 * j) / Float(dimensions)
        return Double(1 / Float(Foundation.pow(Double(Float(base)), Double(exponent))))
      }
      return 1 / Foundation.pow(base, Double(2 * j) / Double(dimensions))
    }
  }

  /// cos(angle) and sin(angle) for `positions` (any shape): each `positions.shape + [d]`. In Float
  /// the angle p·θⱼ is one float32 product, as in `transformers`.
  public func tables<Scalar: TensorScalar>(
    positions: IndexTensor, as _: Scalar.Type = Scalar.self
  ) -> (cos: Tensor<Scalar>, sin: Tensor<Scalar>) {
    let frequencies = inverseFrequencies(as: Scalar.self)
    let d = dimensions, half = d / 2
    var cosines = [Scalar](repeating: 0, count: positions.count * d)
    var sines = cosines
    for (row, position) in positions.scalars.enumerated() {
      for j in 0..<half {
        let angle =
          Scalar.self == Float.self ? Double(Float(position) * Float(frequencies[j])) : Double(position) * frequencies[j]
        let (c, s) = (Scalar(Foundation.cos(angle)), Scalar(Foundation.sin(angle)))
        cosines[row * d + j] = c
        cosines[row * d + half + j] = c
        sines[row * d + j] = s
        sines[row * d + half + j] = s
      }
    }
    let shape = positions.shape + [d]
    return (Tensor(cosines, shape: shape), Tensor(sines, shape: shape))
  }
}

extension Tensor {
  /// `self` `[…, d]` rotated by the tables of ``RotaryEmbedding/tables(positions:as:)``
  /// (broadcasting against `self`, e.g. `[T, d]` or `[B, 1, T, d]` for `[B, heads, T, d]`):
  /// x ⊙ cos + rotate_half(x) ⊙ sin.
  public func rotaryEmbedded(
    cos: Tensor, sin: Tensor, file: StaticString = #fileID, line: UInt = #line
  ) -> Tensor {
    let d = rank > 0 ? shape[rank - 1] : 0
    if d == 0 || d % 2 != 0 || cos.shape != sin.shape || cos.shape.last != d {
      shapeFailure(
        "rotaryEmbedded", "x must end in an even size d, and cos and sin be tables […, d] of one shape",
        shapes: [shape, cos.shape, sin.shape], file: file, line: line)
    }
    let half = d / 2
    let rotatedHalf = Tensor.concatenated(
      [-sliced(axis: -1, start: half, file: file, line: line), sliced(axis: -1, start: 0, end: half, file: file, line: line)],
      axis: -1, file: file, line: line)
    return self * cos + rotatedHalf * sin
  }
}
