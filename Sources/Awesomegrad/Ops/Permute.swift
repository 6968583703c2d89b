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
    return Tensor(storage.permuted(resolved), op: "permuted", parents: [self], file: file, line: line) { g in
      [g.permuted(inverse)]
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

extension Storage {
  /// The elements with axes reordered by `axes` (a valid permutation), copied into row-major order:
  /// output axis i is read with the source stride of axis `axes[i]`.
  ///
  /// When the source's contiguous last axis does not stay last (a transpose), the copy runs in
  /// 32×32 tiles of the plane spanned by that axis and the output's last axis, so that both the reads
  /// and the writes stay within a few cache lines instead of striding through memory.
  func permuted(_ axes: [Int]) -> Storage {
    let rank = shape.count
    if axes == Array(0..<rank) { return self }
    let sourceStrides = contiguousStrides(shape)
    let outShape = axes.map { shape[$0] }
    guard let p = axes.firstIndex(of: rank - 1), p != rank - 1, count > 0 else {
      return gathered(shape: outShape, strides: axes.map { sourceStrides[$0] })
    }
    let out = Storage(uninitializedShape: outShape)
    let src = buffer.base, dst = out.buffer.base
    let outStrides = contiguousStrides(outShape)
    let rows = outShape[p], columns = outShape[rank - 1]
    let rowStrideOut = outStrides[p], columnStrideIn = sourceStrides[axes[rank - 1]]
    // Odometer over every output axis but p and the last; each position is one [rows, columns] plane.
    let planeAxes = (0..<rank).filter { $0 != p && $0 != rank - 1 }
    var index = [Int](repeating: 0, count: planeAxes.count)
    let planes = planeAxes.reduce(1) { $0 * outShape[$1] }
    let tile = 32
    for _ in 0..<planes {
      var srcBase = 0, dstBase = 0
      for (k, axis) in planeAxes.enumerated() {
        srcBase += index[k] * sourceStrides[axes[axis]]
        dstBase += index[k] * outStrides[axis]
      }
      // out[r, c] = src[r + c·columnStrideIn]: rows are contiguous in the source, columns in the output.
      var r0 = 0
      while r0 < rows {
        let r1 = Swift.min(r0 + tile, rows)
        var c0 = 0
        while c0 < columns {
          let c1 = Swift.min(c0 + tile, columns)
          for r in r0..<r1 {
            let d = dst + dstBase + r * rowStrideOut, s = src + srcBase + r
            for c in c0..<c1 { d[c] = s[c * columnStrideIn] }
          }
          c0 = c1
        }
        r0 = r1
      }
      var k = planeAxes.count - 1
      while k >= 0 {
        index[k] += 1
        if index[k] < outShape[planeAxes[k]] { break }
        index[k] = 0
        k -= 1
      }
    }
    return out
  }
}
