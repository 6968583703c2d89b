/// Root-mean-square normalisation over the last axis, PyTorch's `nn.RMSNorm` and Llama's
/// `LlamaRMSNorm`:
///
///     y = x / √(mean(x²) + eps) ⊙ weight
///
/// Composed from existing ops (square, mean, sqrt, divide, multiply), so its gradient is theirs.
///
/// - `weight`: `[dimensions]`, initially 1.
/// - Input `[…, dimensions]`; output the same shape.
public final class RMSNorm<Scalar: TensorScalar>: Module<Scalar> {
  /// The scale, initially 1.
  public let weight: Tensor<Scalar>
  /// Added to the mean square.
  public let eps: Double

  /// Normalises over a last axis of size `dimensions`.
  public convenience init(dimensions: Int, eps: Double = 1e-6, file: StaticString = #fileID, line: UInt = #line) {
    if dimensions <= 0 {
      argumentFailure("RMSNorm", "dimensions must be positive, got \(dimensions)", file: file, line: line)
    }
    self.init(weight: .ones([dimensions]), eps: eps, file: file, line: line)
  }

  /// A norm over a given weight `[dimensions]` (made to require grad).
  public init(weight: Tensor<Scalar>, eps: Double, file: StaticString = #fileID, line: UInt = #line) {
    if weight.rank != 1 || weight.count == 0 {
      argumentFailure("RMSNorm", "weight must be a non-empty vector, got \(weight.shape)", file: file, line: line)
    }
    self.weight = weight
    self.eps = eps
    super.init()
    registerParameter("weight", weight)
  }

  /// `[…, dimensions]` → the same shape.
  public override func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    if x.rank < 1 || x.shape[x.rank - 1] != weight.count {
      shapeFailure(
        "RMSNorm", "input must end in the norm's dimension \(weight.count)", shapes: [x.shape, weight.shape],
        file: #fileID, line: #line)
    }
    let meanSquare = (x * x).mean(axes: [-1], keepingDimensions: true)
    return x / (meanSquare + Scalar(eps)).sqrt() * weight
  }
}
