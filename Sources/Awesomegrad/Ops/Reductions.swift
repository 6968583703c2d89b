/// Sums and means over all axes or chosen axes, with or without keeping the reduced axes.
extension Tensor {
  /// Σ over `axes` (all axes when nil). Negative axes count from the end.
  /// The pullback broadcasts the gradient back over the reduced axes: ∂(Σx)/∂xᵢ = 1.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func sum(
    axes: [Int]? = nil, keepingDimensions: Bool = false, file: StaticString = #fileID, line: UInt = #line
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
    let outShape = keepingDimensions ? keptShape : reducedShape(inputShape, removing: resolved)
    return Tensor(kept.reshaped(outShape), op: "sum", parents: [self], file: file, line: line) { g, graph in
      if let graph { return graph.record { g, _, _ in [g.reshaped(keptShape).expanded(to: inputShape)] } }
      return [g.reshaped(keptShape).expanded(to: inputShape)]
    }
  }

  /// The mean over `axes` (all axes when nil): Σx / n, composed from
  /// ``sum(axes:keepingDimensions:file:line:)``.
  public func mean(
    axes: [Int]? = nil, keepingDimensions: Bool = false, file: StaticString = #fileID, line: UInt = #line
  ) -> Tensor {
    let resolved = normalizeAxes(axes, rank: rank, op: "mean", shape: shape, file: file, line: line)
    let n = resolved.reduce(1) { $0 * shape[$1] }
    return sum(axes: resolved, keepingDimensions: keepingDimensions, file: file, line: line) / Scalar(n)
  }
}

/// `shape` without the axes in `removing`.
func reducedShape(_ shape: [Int], removing axes: [Int]) -> [Int] {
  shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
}

/// Maxima and variance.
extension Tensor {
  /// The maximum over `axes` (all axes when nil), like PyTorch's `amax`.
  ///
  /// The gradient flows to the elements equal to the maximum. When several elements tie, it is split
  /// evenly among them (PyTorch's `amax` and all-axes `torch.max(x)` do the same; `torch.max(x, dim)`
  /// instead sends it all to one index). Without ties, the two rules agree.
  ///
  /// PyTorch's rules for the edge cases:
  /// - NaN wins: a maximum over values that include NaN is NaN, and since NaN equals nothing, every
  ///   element of that reduction gets g·0/0 = NaN as its gradient.
  /// - Empty tensors: reducing over an axis of size 0 stops (the maximum of nothing is undefined);
  ///   reducing a non-empty axis of a tensor with a size-0 axis elsewhere gives an empty result.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func max(
    axes: [Int]? = nil, keepingDimensions: Bool = false, file: StaticString = #fileID, line: UInt = #line
  ) -> Tensor {
    let inputShape = shape
    let resolved = normalizeAxes(axes, rank: rank, op: "max", shape: inputShape, file: file, line: line)
    if let empty = resolved.first(where: { inputShape[$0] == 0 }) {
      shapeFailure(
        "max", "axis \(empty) has size 0, and the maximum of nothing is undefined; reduce over other axes",
        shapes: [inputShape], file: file, line: line)
    }
    let x = storage
    let maxima = x.maxPropagatingNaN(keepingAxes: resolved)
    let outShape = keepingDimensions ? maxima.shape : reducedShape(inputShape, removing: resolved)
    return Tensor(maxima.reshaped(outShape), op: "max", parents: [self], file: file, line: line) { g, graph in
      if let graph {
        // g·mask / Σ mask with the mask and the ties constant: max is linear where it is smooth.
        let broadcastMax = maxima.expanded(to: inputShape)
        let mask = x.zipSameShape(broadcastMax) { $0 == $1 ? 1 : 0 }
        let share = mask.zipSameShape(mask.sum(keepingAxes: resolved).expanded(to: inputShape), /)
        return graph.record { g, _, _ in [g.reshaped(maxima.shape).expanded(to: inputShape) * Tensor(share)] }
      }
      // mask = 1[x = max]; each maximum's gradient is shared among its ties: g·mask / Σ mask.
      let broadcastMax = maxima.expanded(to: inputShape)
      let mask = x.zipSameShape(broadcastMax) { $0 == $1 ? 1 : 0 }
      let ties = mask.sum(keepingAxes: resolved)
      let share = g.reshaped(maxima.shape).zipSameShape(ties, /).expanded(to: inputShape)
      return [mask.zipSameShape(share, *)]
    }
  }

  /// The variance over `axes` (all axes when nil): Σ(x − x̄)² / (n − correction).
  ///
  /// `correction: 1` (the default, as in PyTorch) is the unbiased sample variance; `0` is the
  /// population variance. Composed from ``mean(axes:keepingDimensions:file:line:)`` and
  /// ``sum(axes:keepingDimensions:file:line:)``.
  public func variance(
    axes: [Int]? = nil, correction: Int = 1, keepingDimensions: Bool = false,
    file: StaticString = #fileID, line: UInt = #line
  ) -> Tensor {
    let resolved = normalizeAxes(axes, rank: rank, op: "variance", shape: shape, file: file, line: line)
    let n = resolved.reduce(1) { $0 * shape[$1] }
    let centered = self - mean(axes: resolved, keepingDimensions: true, file: file, line: line)
    let squares = (centered * centered).sum(
      axes: resolved, keepingDimensions: keepingDimensions, file: file, line: line)
    return squares / Scalar(n - correction)
  }
}
