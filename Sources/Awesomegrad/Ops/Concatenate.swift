/// Joining tensors along an axis, and taking a contiguous range along an axis. The two are each
/// other's pullbacks: the gradient of a concatenation is sliced, the gradient of a slice is padded.
///
/// Both see a tensor of shape `[outer…, size, inner…]` as `outer` blocks of `size·inner` contiguous
/// elements, so every copy is a run of whole blocks.
extension Tensor {
  /// The tensors joined along `axis`; every other axis must agree.
  /// `concatenated([a: [3, 2], b: [3, 3]], axis: 1)` has shape `[3, 5]`.
  ///
  /// ∂/∂ each input is its own range of the gradient along `axis`.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public static func concatenated(
    _ tensors: [Tensor], axis: Int, file: StaticString = #fileID, line: UInt = #line
  ) -> Tensor {
    guard let first = tensors.first else {
      shapeFailure("concatenated", "needs at least one tensor", shapes: [], file: file, line: line)
    }
    let shapes = tensors.map(\.shape)
    let resolved = normalizeAxis(
      axis, rank: first.rank, op: "concatenated", shape: first.shape, file: file, line: line)
    for s in shapes
    where s.count != first.rank || !s.indices.allSatisfy({ $0 == resolved || s[$0] == first.shape[$0] }) {
      shapeFailure(
        "concatenated", "shapes must agree on every axis but \(resolved)", shapes: shapes, file: file,
        line: line)
    }
    let sizes = shapes.map { $0[resolved] }
    var outShape = first.shape
    outShape[resolved] = sizes.reduce(0, +)
    let inner = elementCount(Array(first.shape[(resolved + 1)...]))
    let out = Storage<Scalar>(uninitializedShape: outShape)
    var start = 0
    for (tensor, size) in zip(tensors, sizes) {
      out.copyBlocks(from: tensor.storage, axis: resolved, start: start, size: size, inner: inner)
      start += size
    }
    let needs = tensors.map(\.requiresGrad)
    return Tensor(out, op: "concatenated", parents: tensors, file: file, line: line) { g, graph in
      if let graph {
        return graph.record { g, _, _ in
          var start = 0
          return sizes.enumerated().map { i, size in
            defer { start += size }
            return needs[i] ? g.sliced(axis: resolved, start: start, end: start + size) : nil
          }
        }
      }
      var starts = 0
      return zip(shapes, sizes).enumerated().map { i, part in
        defer { starts += part.1 }
        return needs[i] ? g.slice(axis: resolved, start: starts, size: part.1, inner: inner, shape: part.0) : nil
      }
    }
  }

  /// The elements with index in `start..<end` along `axis` (negative values count from the end).
  /// `[3, 4].sliced(axis: 0, start: 1, end: 3)` has shape `[2, 4]`.
  ///
  /// ∂/∂x is the gradient placed back at those indices, with zeros elsewhere.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func sliced(
    axis: Int, start: Int, end: Int? = nil, file: StaticString = #fileID, line: UInt = #line
  ) -> Tensor {
    let resolved = normalizeAxis(axis, rank: rank, op: "sliced", shape: shape, file: file, line: line)
    let size = shape[resolved]
    let lower = start < 0 ? start + size : start
    let upper = end.map { $0 < 0 ? $0 + size : $0 } ?? size
    if lower < 0 || upper > size || lower > upper {
      shapeFailure(
        "sliced",
        "range \(start)..<\(end.map(String.init) ?? "end") is outside 0..<\(size) along axis \(resolved)",
        shapes: [shape], file: file, line: line)
    }
    let inputShape = shape
    let inner = elementCount(Array(inputShape[(resolved + 1)...]))
    var outShape = inputShape
    outShape[resolved] = upper - lower
    let out = storage.slice(axis: resolved, start: lower, size: upper - lower, inner: inner, shape: outShape)
    let region = SliceRegion(axisSize: size, start: lower, size: upper - lower, inner: inner)
    let result = Tensor(out, op: "sliced", parents: [self], file: file, line: line) { g, graph in
      if let graph {
        // Padding with zeros: the slice's gradient between constant blocks of zeros.
        return graph.record { g, _, _ in
          var before = inputShape, after = inputShape
          before[resolved] = lower
          after[resolved] = size - upper
          let zeros = { (shape: [Int]) in Tensor(Storage<Scalar>(repeating: 0, shape: shape)) }
          return [Tensor.concatenated([zeros(before), g, zeros(after)], axis: resolved)]
        }
      }
      let padded = Storage<Scalar>(repeating: 0, shape: inputShape)
      padded.addBlocks(from: g, region: region)
      return [padded]
    }
    if result.pullback != nil { result.sliceRegion = region }
    return result
  }
}
