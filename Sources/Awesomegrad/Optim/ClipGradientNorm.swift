/// Scales the gradients of `parameters` so that their global 2-norm is at most `maxNorm`, with
/// `torch.nn.utils.clip_grad_norm_`'s semantics:
///
///     ‖g‖ = √(Σ over all parameters and elements of g²)
///     g ← g · min(1, maxNorm / (‖g‖ + 10⁻⁶))
///
/// Parameters without a gradient are ignored. Returns ‖g‖ before clipping.
///
/// The scaled gradient is a new storage: two parameters may share one gradient buffer (the pullback
/// of `a + b` hands the same gradient to both), so scaling in place could scale it twice.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
@discardableResult
public func clipGradientNorm<Scalar: TensorScalar>(_ parameters: [Tensor<Scalar>], maxNorm: Double) -> Double
{
  var squares = 0.0
  for parameter in parameters {
    guard let g = parameter.gradStorage else { continue }
    // Σg² in 8 lanes and shape-fixed blocks on the pool: the same bits at any thread count.
    squares += Double(CPU.sumOfSquares(g.buffer.base, count: g.count))
  }
  let totalNorm = squares.squareRoot()
  let coefficient = maxNorm / (totalNorm + 1e-6)
  if coefficient < 1 {
    let scale = Scalar(coefficient)
    for parameter in parameters {
      guard let g = parameter.gradStorage else { continue }
      parameter.gradStorage = g.map { $0 * scale }
    }
  }
  return totalNorm
}
