/// Reordering axes: permutations and transposes. These copy the elements into the new row-major
/// order, so every tensor stays contiguous.
extension Tensor {
  /// The axes reordered: axis i of the result is axis `axes[i]` of this tensor.
  /// `[2, 3, 4].permuted([2, 0, 1])` has shape `[4, 2, 3]`.
  ///
  /// ∂/∂x is the gradient permuted back by the inverse permutation.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func permuted(_ axes: [Int], file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    let resolved = axes.map {
      normalizeAxis($0, rank: rank, op: "permuted", shape: shape, file: file, line: line)
    }
    if resolved.count != rank || Set(resolved).count != rank {
      shapeFailure(
        "permuted", "\(axes) is not a permutation of the \(rank) axes", shapes: [shape], file: file,
        line: line)
    }
    var inverse = [Int](repeating: 0, count: rank)
    for (i, axis) in resolved.enumerated() { inverse[axis] = i }
    return Tensor(storage.permuted(resolved), op: "permuted", parents: [self], file: file, line: line) { g, graph in
      if let graph { return graph.record { g, _, _ in [g.permuted(inverse)] } }
      return [g.permuted(inverse)]
    }
  }

  /// Axes `a` and `b` swapped; composed from ``permuted(_:file:line:)``.
  public func transposed(_ a: Int, _ b: Int, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    var axes = Array(0..<rank)
    let i = normalizeAxis(a, rank: rank, op: "transposed", shape: shape, file: file, line: line)
    let j = normalizeAxis(b, rank: rank, op: "transposed", shape: shape, file: file, line: line)
    axes.swapAt(i, j)
    return permuted(axes, file: file, line: line)
  }

  /// The last two axes swapped: the matrix transpose, batched over any leading axes.
  public func transposed(file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    if rank < 2 {
      shapeFailure(
        "transposed", "a transpose needs at least two axes", shapes: [shape], file: file, line: line)
    }
    return transposed(-2, -1, file: file, line: line)
  }
}
