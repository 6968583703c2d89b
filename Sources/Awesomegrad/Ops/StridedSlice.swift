/// Slices that take every `step`-th element, the `x[start:end:step]` of Python.
extension Tensor {
  /// The elements with index start, start + step, … below `end` along `axis` (negative `start` and
  /// `end` count from the end; `end` nil means the end of the axis): `x[..., start:end:step, ...]`.
  /// `[3, 7].sliced(axis: 1, start: 1, end: 6, step: 2)` has shape `[3, 3]` (columns 1, 3, 5).
  ///
  /// `step` must be positive, as in PyTorch. ∂/∂x places the gradient back at the taken indices,
  /// zeros elsewhere.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func sliced(
    axis: Int, start: Int, end: Int? = nil, step: Int, file: StaticString = #fileID, line: UInt = #line
  ) -> Tensor {
    if step < 1 {
      shapeFailure("sliced", "step must be positive, got \(step)", shapes: [shape], file: file, line: line)
    }
    if step == 1 { return sliced(axis: axis, start: start, end: end, file: file, line: line) }
    let a = normalizeAxis(axis, rank: rank, op: "sliced", shape: shape, file: file, line: line)
    let size = shape[a]
    // Python's clamping: out-of-range bounds are limited to the axis.
    let lower = Swift.min(Swift.max(start < 0 ? start + size : start, 0), size)
    let upper = Swift.min(Swift.max(end.map { $0 < 0 ? $0 + size : $0 } ?? size, lower), size)
    let taken = (upper - lower + step - 1) / step
    let inputShape = shape
    let outer = elementCount(Array(inputShape[..<a])), inner = elementCount(Array(inputShape[(a + 1)...]))
    var outShape = inputShape
    outShape[a] = taken
    // Row j of each outer block is row lower + j·step: a copy of blocks of `inner` scalars with a
    // stride of step·inner, one outer block after another.
    let out = Storage<Scalar>(uninitializedShape: outShape)
    let src = storage.buffer.base, dst = out.buffer.base
    for o in 0..<outer {
      CPU.copyBlocks(
        src + (o * size + lower) * inner, sourceStride: step * inner, into: dst + o * taken * inner,
        targetStride: inner, outer: taken, block: inner, adding: false)
    }
    return Tensor(out, op: "sliced", parents: [self], file: file, line: line) { g, graph in
      if let graph {
        let offsets = rowOffsets(Array(stride(from: lower, to: upper, by: step)), outer: outer, size: size, inner: inner)
        return graph.record { g, _, _ in [g.scatteringElements(at: offsets, shape: inputShape)] }
      }
      let grad = Storage<Scalar>(repeating: 0, shape: inputShape)
      let gs = g.buffer.base, gd = grad.buffer.base
      for o in 0..<outer {
        CPU.copyBlocks(
          gs + o * taken * inner, sourceStride: inner, into: gd + (o * size + lower) * inner,
          targetStride: step * inner, outer: taken, block: inner, adding: false)
      }
      return [grad]
    }
  }
}
