/// Reading elements by integer index: embedding lookups, `index_select` and `gather`.
///
/// Each forward pass copies the selected elements; each pullback scatter-adds the gradient back to
/// where they came from, so an index that occurs several times accumulates one gradient per
/// occurrence.

/// The rows of `weight` named by `indices`: PyTorch's `F.embedding(indices, weight)`.
///
///     out[i…, :] = weight[indices[i…], :]
///
/// ∂L/∂weight[r, :] = Σ over the positions i… with indices[i…] = r of ∂L/∂out[i…, :]: a token
/// that appears twice in a batch gets both gradients.
///
/// - Parameters:
///   - indices: any shape, each index in `0..<weight.shape[0]` (negative ones count from the end).
///   - weight: `[vocabulary, channels…]`.
///   - file: the caller's file (`#fileID`), named in error messages and by anomaly mode.
///   - line: the caller's line.
/// - Returns: `indices.shape + weight.shape.dropFirst()`.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func embedding<Scalar: TensorScalar>(
  _ indices: IndexTensor, weight: Tensor<Scalar>, file: StaticString = #fileID, line: UInt = #line
) -> Tensor<Scalar> {
  if weight.rank < 1 {
    shapeFailure(
      "embedding", "the weight needs a vocabulary axis", shapes: [weight.shape, indices.shape], file: file,
      line: line)
  }
  let rows = weight.shape[0]
  let resolved = indices.resolved(against: rows, op: "embedding", file: file, line: line)
  return weight.selectingRows(resolved, op: "embedding", outShape: indices.shape + weight.shape.dropFirst())
}

extension Tensor {
  /// The entries along `axis` named by `indices`, in order: PyTorch's `index_select(x, axis, indices)`.
  /// `[6, 5].indexSelect(axis: 0, [4, 0, 4, 2])` has shape `[4, 5]`, with row 4 twice.
  ///
  /// ∂/∂x scatter-adds the gradient back along `axis`; repeated indices accumulate.
  ///
  /// - Parameters:
  ///   - axis: the axis to select along (negative counts from the end).
  ///   - indices: one-dimensional, each in `0..<shape[axis]` (negative counts from the end).
  ///   - file: the caller's file (`#fileID`), named in error messages and by anomaly mode.
  ///   - line: the caller's line.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func indexSelect(
    axis: Int, _ indices: IndexTensor, file: StaticString = #fileID, line: UInt = #line
  ) -> Tensor {
    let a = normalizeAxis(axis, rank: rank, op: "indexSelect", shape: shape, file: file, line: line)
    if indices.rank > 1 {
      shapeFailure(
        "indexSelect", "the indices must be one-dimensional", shapes: [shape, indices.shape], file: file,
        line: line)
    }
    let resolved = indices.resolved(against: shape[a], op: "indexSelect", file: file, line: line)
    var outShape = shape
    outShape[a] = resolved.count
    if a == 0 { return selectingRows(resolved, op: "indexSelect", outShape: outShape) }
    // [outer, size, inner] → [outer, k, inner]: row j of each outer block is row indices[j].
    let inputShape = shape
    let outer = elementCount(Array(inputShape[..<a])), size = inputShape[a]
    let inner = elementCount(Array(inputShape[(a + 1)...]))
    let k = resolved.count
    let out = Storage<Scalar>(uninitializedShape: outShape)
    let src = storage.buffer.base, dst = out.buffer.base
    // Each outer block is a gather of rows of `inner` scalars, and its gradient a scatter-add.
    resolved.withUnsafeBufferPointer { rows in
      for o in 0..<outer {
        CPU.gatherRows(src + o * size * inner, rows: rows, width: inner, into: dst + o * k * inner)
      }
    }
    return Tensor(out, op: "indexSelect", parents: [self], file: file, line: line) { g, graph in
      if let graph {
        let offsets = rowOffsets(resolved, outer: outer, size: size, inner: inner)
        return graph.record { g, _, _ in [g.scatteringElements(at: offsets, shape: inputShape)] }
      }
      let grad = Storage<Scalar>(uninitializedShape: inputShape)
      let gd = grad.buffer.base, gs = g.buffer.base
      resolved.withUnsafeBufferPointer { rows in
        for o in 0..<outer {
          CPU.scatterAddRows(gs + o * k * inner, rows: rows, width: inner, into: gd + o * size * inner, targetRows: size)
        }
      }
      return [grad]
    }
  }

  /// The elements picked along `axis` by `indices`: PyTorch's `torch.gather(x, axis, indices)`. For
  /// a 2-D `x` and `axis: 1`, `out[i][j] = x[i][indices[i][j]]`.
  ///
  /// `indices` has the rank of `x`, and on every axis other than `axis` it is no larger than `x`;
  /// the result has the shape of `indices`. ∂/∂x scatter-adds the gradient to the picked elements.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func gathering(
    axis: Int, _ indices: IndexTensor, file: StaticString = #fileID, line: UInt = #line
  ) -> Tensor {
    let a = normalizeAxis(axis, rank: rank, op: "gathering", shape: shape, file: file, line: line)
    if indices.rank != rank
      || indices.shape.indices.contains(where: { $0 != a && indices.shape[$0] > shape[$0] })
    {
      shapeFailure(
        "gathering", "the indices must have the tensor's rank and be no larger on axes other than \(a)",
        shapes: [shape, indices.shape], file: file, line: line)
    }
    let resolved = indices.resolved(against: shape[a], op: "gathering", file: file, line: line)
    // The source offset of each output element: its own coordinates, with `axis` replaced by the index.
    let strides = contiguousStrides(shape)
    var offsets = [Int](repeating: 0, count: resolved.count)
    var coordinate = [Int](repeating: 0, count: rank)
    for n in 0..<resolved.count {
      var offset = resolved[n] * strides[a]
      for d in 0..<rank where d != a { offset += coordinate[d] * strides[d] }
      offsets[n] = offset
      var d = rank - 1
      while d >= 0 {
        coordinate[d] += 1
        if coordinate[d] < indices.shape[d] { break }
        coordinate[d] = 0
        d -= 1
      }
    }
    let inputShape = shape
    let out = Storage<Scalar>(uninitializedShape: indices.shape)
    offsets.withUnsafeBufferPointer { offsets in
      CPU.gatherElements(storage.buffer.base, offsets: offsets, into: out.buffer.base)
    }
    return Tensor(out, op: "gathering", parents: [self], file: file, line: line) { g, graph in
      if let graph { return graph.record { g, _, _ in [g.scatteringElements(at: offsets, shape: inputShape)] } }
      let grad = Storage<Scalar>(repeating: 0, shape: inputShape)
      offsets.withUnsafeBufferPointer { offsets in
        CPU.scatterAddElements(g.buffer.base, offsets: offsets, into: grad.buffer.base)
      }
      return [grad]
    }
  }

  /// Rows (entries of axis 0) `rows`, already checked, as a tensor of `outShape`; the pullback
  /// scatter-adds into a zero gradient. Shared by ``embedding(_:weight:file:line:)`` and
  /// ``indexSelect(axis:_:file:line:)`` along axis 0.
  @inline(__always)
  func selectingRows(_ rows: [Int], op: StaticString, outShape: [Int]) -> Tensor {
    let inputShape = shape
    let width = inputShape.dropFirst().reduce(1, *)
    let out = Storage<Scalar>(uninitializedShape: outShape)
    rows.withUnsafeBufferPointer { rows in
      CPU.gatherRows(storage.buffer.base, rows: rows, width: width, into: out.buffer.base)
    }
    return Tensor(out, op: op, parents: [self]) { g, graph in
      if let graph {
        let offsets = rowOffsets(rows, outer: 1, size: inputShape[0], inner: width)
        return graph.record { g, _, _ in [g.scatteringElements(at: offsets, shape: inputShape)] }
      }
      let grad = Storage<Scalar>(uninitializedShape: inputShape)
      rows.withUnsafeBufferPointer { rows in
        CPU.scatterAddRows(g.buffer.base, rows: rows, width: width, into: grad.buffer.base, targetRows: inputShape[0])
      }
      return [grad]
    }
  }
}
