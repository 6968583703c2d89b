/// Undoes broadcasting for a gradient: sums `gradient` over the axes along which an input of `shape`
/// was broadcast, so that the result has `shape` again.
///
/// If `x` of shape `[3, 1]` was broadcast to `[2, 3, 4]`, then ∂L/∂x = Σ over axes 0 and 2 of
/// ∂L/∂(broadcast x). This is the only place in the engine that undoes broadcasting; every binary
/// pullback calls it.
@inline(__always)
func unbroadcast<Scalar>(_ gradient: Storage<Scalar>, to shape: [Int]) -> Storage<Scalar> {
  if gradient.shape == shape { return gradient }
  let extra = gradient.shape.count - shape.count
  var axes: [Int] = Array(0..<extra)
  for (i, size) in shape.enumerated() where size == 1 && gradient.shape[i + extra] != 1 {
    axes.append(i + extra)
  }
  return gradient.sum(keepingAxes: axes).reshaped(shape)
}
