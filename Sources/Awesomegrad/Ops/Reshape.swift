/// Views with another shape. The values are shared, not copied.
extension Tensor {
  /// The same elements with shape `newShape`; one axis may be −1 and is inferred.
  /// ∂/∂x is the gradient reshaped back.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func reshaped(_ newShape: [Int], file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    let resolved = resolveReshape(shape, to: newShape, op: "reshape", file: file, line: line)
    let inputShape = shape
    return Tensor(storage.reshaped(resolved), op: "reshaped", parents: [self], file: file, line: line) { g, graph in
      if let graph { return graph.record { g, _, _ in [g.reshaped(inputShape)] } }
      return [g.reshaped(inputShape)]
    }
  }
}

extension Tensor {
  /// This tensor when it already has `newShape`, else ``reshaped(_:file:line:)``: for the formulas of
  /// gradients of gradients, which should not add a node that changes nothing.
  func reshapedIfNeeded(_ newShape: [Int]) -> Tensor {
    shape == newShape ? self : reshaped(newShape)
  }
}

/// Adding and removing axes of size 1, and broadcasting to a larger shape.
extension Tensor {
  /// The same elements with a new axis of size 1 inserted at `axis` (which may be `rank`, or
  /// negative counting from the end of the result). Composed from ``reshaped(_:file:line:)``.
  public func unsqueezed(axis: Int, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    let position = normalizeAxis(axis, rank: rank + 1, op: "unsqueezed", shape: shape, file: file, line: line)
    var newShape = shape
    newShape.insert(1, at: position)
    return reshaped(newShape, file: file, line: line)
  }

  /// The same elements without the size-1 axes in `axes` (every size-1 axis when nil).
  /// Composed from ``reshaped(_:file:line:)``.
  public func squeezed(axes: [Int]? = nil, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    let resolved: [Int]
    if let axes {
      resolved = normalizeAxes(axes, rank: rank, op: "squeezed", shape: shape, file: file, line: line)
      for axis in resolved where shape[axis] != 1 {
        shapeFailure(
          "squeezed", "axis \(axis) has size \(shape[axis]), not 1", shapes: [shape], file: file, line: line)
      }
    } else {
      resolved = shape.indices.filter { shape[$0] == 1 }
    }
    return reshaped(reducedShape(shape, removing: resolved), file: file, line: line)
  }

  /// This tensor broadcast to `target` (numpy's rule: size-1 axes repeat, new axes are added on the
  /// left). The values are copied. ∂/∂x sums the gradient back over the repeated axes.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func expanded(to target: [Int], file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    guard broadcastShape(shape, target) == target else {
      shapeFailure(
        "expanded", "the shape does not broadcast to \(target)", shapes: [shape, target], file: file,
        line: line)
    }
    let inputShape = shape
    return Tensor(storage.expanded(to: target), op: "expanded", parents: [self], file: file, line: line) {
      g, graph in
      if let graph { return graph.record { g, _, _ in [g.summed(to: inputShape)] } }
      return [unbroadcast(g, to: inputShape)]
    }
  }
}

extension Tensor {
  /// This tensor summed down to `target`, the inverse of ``expanded(to:file:line:)`` and what undoes
  /// broadcasting in a gradient (PyTorch's `sum_to_size`): the sum over the leading axes that
  /// `target` lacks and over the axes where `target` has size 1. `target` must broadcast to this
  /// tensor's shape. ∂/∂x broadcasts the gradient back to this shape.
  ///
  /// ```swift
  /// // b: [3] was broadcast over a batch in x·Wᵀ + b, so ∂L/∂b is ∂L/∂(x·Wᵀ + b): [B, 3] summed to [3].
  /// let biasGradient = g.summed(to: [3])
  /// ```
  public func summed(to target: [Int], file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    if target == shape { return self }  // nothing to sum, as PyTorch's sum_to_size
    guard broadcastShape(target, shape) == shape else {
      shapeFailure(
        "summed", "\(target) does not broadcast to the tensor's shape", shapes: [shape, target],
        file: file, line: line)
    }
    let inputShape = shape
    return Tensor(unbroadcast(storage, to: target), op: "summed", parents: [self], file: file, line: line) {
      g, graph in
      if let graph { return graph.record { g, _, _ in [g.expanded(to: inputShape)] } }
      return [g.expanded(to: inputShape)]
    }
  }
}

/// `newShape` with its one allowed -1 replaced by the size that keeps the element count of `shape`;
/// stops with `op`'s name when the counts cannot agree.
func resolveReshape(_ shape: [Int], to newShape: [Int], op: String, file: StaticString, line: UInt) -> [Int] {
  let count = elementCount(shape)
  var resolved = newShape
  let inferred = newShape.indices.filter { newShape[$0] == -1 }
  if inferred.count > 1 || newShape.contains(where: { $0 < -1 }) {
    shapeFailure(op, "invalid target shape \(newShape)", shapes: [shape], file: file, line: line)
  }
  if let axis = inferred.first {
    let known = newShape.reduce(1) { $1 == -1 ? $0 : $0 * $1 }
    if known == 0 || count % known != 0 {
      shapeFailure(op, "cannot infer axis of \(newShape)", shapes: [shape], file: file, line: line)
    }
    resolved[axis] = count / known
  }
  if elementCount(resolved) != count {
    shapeFailure(
      op, "element counts differ (\(count) vs \(elementCount(resolved)))", shapes: [shape, resolved],
      file: file, line: line)
  }
  return resolved
}
