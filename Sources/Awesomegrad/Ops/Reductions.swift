/// Sums and means over all axes or chosen axes, with or without keeping the reduced axes.
extension Tensor {
  /// Σ over `axes` (all axes when nil). Negative axes count from the end.
  /// The pullback broadcasts the gradient back over the reduced axes: ∂(Σx)/∂xᵢ = 1.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func sum(
    axes: [Int]? = nil, keepDims: Bool = false, file: StaticString = #fileID, line: UInt = #line
  ) -> Tensor {
    let inputShape = shape
    let resolved = normalizeAxes(axes, rank: rank, op: "sum", shape: inputShape, file: file, line: line)
    let kept: Storage<Scalar>
    if resolved.count == rank {
      kept = Storage(repeating: storage.sumAll(), shape: inputShape.map { _ in 1 })
    } else {
      kept = storage.sum(keepingAxes: resolved)
    }
    let keptShape = kept.shape
    let outShape = keepDims ? keptShape : reducedShape(inputShape, removing: resolved)
    return Tensor(kept.reshaped(outShape), parents: [self]) { g in
      [g.reshaped(keptShape).expanded(to: inputShape)]
    }
  }

  /// The mean over `axes` (all axes when nil): Σx / n, composed from ``sum(axes:keepDims:file:line:)``.
  public func mean(
    axes: [Int]? = nil, keepDims: Bool = false, file: StaticString = #fileID, line: UInt = #line
  ) -> Tensor {
    let resolved = normalizeAxes(axes, rank: rank, op: "mean", shape: shape, file: file, line: line)
    let n = resolved.reduce(1) { $0 * shape[$1] }
    return sum(axes: resolved, keepDims: keepDims, file: file, line: line) / Scalar(n)
  }
}

/// `shape` without the axes in `removing`.
func reducedShape(_ shape: [Int], removing axes: [Int]) -> [Int] {
  shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
}

extension Storage {
  /// This storage repeated along its size-1 and missing leading axes to `target` (numpy broadcasting).
  func expanded(to target: [Int]) -> Storage {
    if shape == target { return self }
    let out = Storage(uninitializedShape: target)
    let src = buffer.base, dst = out.buffer.base
    if count == 1 {
      dst.initialize(repeating: src[0], count: out.count)
      return out
    }
    let strides = broadcastStrides(shape, to: target)
    forEachBroadcastRow(shape: target, strides, strides) { offset, _, outOffset, length, stride, _ in
      for j in 0..<length { dst[outOffset + j] = src[offset + j * stride] }
    }
    return out
  }
}
