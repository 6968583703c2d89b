/// Copies that move values without arithmetic: blocks of a slice or a concatenation, and transposes.
/// Each output element is written by one thread whatever the split, so they use ``parallelFor(_:grain:_:)``.
extension CPU {
  /// For every o < `outer`: `block` scalars from `source + o·sourceStride` to `target + o·targetStride`,
  /// added to the target when `adding`, else copied.
  @inline(__always)
  static func copyBlocks<T: TensorScalar>(
    _ source: UnsafePointer<T>, sourceStride: Int, into target: UnsafeMutablePointer<T>, targetStride: Int,
    outer: Int, block: Int, adding: Bool
  ) {
    parallelFor(0..<outer, grain: Swift.max(1, elementwiseGrain / Swift.max(block, 1))) { piece in
      for o in piece {
        let s = source + o * sourceStride, d = target + o * targetStride
        if adding {
          for j in 0..<block { d[j] += s[j] }
        } else {
          d.update(from: s, count: block)
        }
      }
    }
  }

  /// Keeps element (r, c) of each `rows × columns` matrix where `keeps(r, c)`, zero elsewhere.
  @inline(__always)
  static func keepTriangle<T: TensorScalar>(
    _ x: UnsafePointer<T>, into y: UnsafeMutablePointer<T>, matrices: Int, rows: Int, columns: Int,
    _ keeps: (Int, Int) -> Bool
  ) {
    parallelFor(0..<(matrices * rows), grain: Swift.max(1, elementwiseGrain / Swift.max(columns, 1))) { piece in
      for mr in piece {
        let r = mr % rows, offset = mr * columns
        for c in 0..<columns { y[offset + c] = keeps(r, c) ? x[offset + c] : 0 }
      }
    }
  }

  /// The running sum along the middle axis of `[outer, size, inner]`, in place: row r += row r − 1
  /// (from the last row backwards when `reversed`). Each (outer, column) scans on one thread.
  @inline(__always)
  static func cumulativeSum<T: TensorScalar>(
    _ x: UnsafeMutablePointer<T>, outer: Int, size: Int, inner: Int, reversed: Bool
  ) {
    parallelFor(0..<outer, grain: Swift.max(1, elementwiseGrain / Swift.max(size * inner, 1))) { piece in
      for o in piece {
        let block = x + o * size * inner
        for step in 1..<Swift.max(size, 1) {
          let r = reversed ? size - 1 - step : step
          let previous = reversed ? r + 1 : r - 1
          let row = block + r * inner, before = block + previous * inner
          for i in 0..<inner { row[i] += before[i] }
        }
      }
    }
  }

  /// Writes `row` (`width` scalars) into each of `rows` consecutive rows of `target`: a bias
  /// broadcast over a batch.
  @inline(__always)
  static func repeatRow<T>(_ row: UnsafePointer<T>, into target: UnsafeMutablePointer<T>, rows: Int, width: Int) {
    parallelFor(0..<rows, grain: Swift.max(1, 4 * elementwiseGrain / Swift.max(width, 1))) { piece in
      for r in piece {
        let d = target + r * width
        for j in 0..<width { d[j] = row[j] }
      }
    }
  }

  /// out[…, r, …, c] = src[… + r + c·columnStrideIn] for every plane of a transpose whose source's
  /// contiguous axis becomes output axis `p` (see `Storage.permuted`), in 32×32 tiles of each
  /// `[rows, columns]` plane, so that reads and writes both stay within a few cache lines.
  ///
  /// - `planeShape`: the sizes of the output axes other than p and the last, whose strides in the
  ///   source and the output are `planeSourceStrides` and `planeOutputStrides`.
  @inline(__always)
  static func transposePlanes<T>(
    _ src: UnsafePointer<T>, into dst: UnsafeMutablePointer<T>, planeShape: [Int], planeSourceStrides: [Int],
    planeOutputStrides: [Int], rows: Int, columns: Int, rowStrideOut: Int, columnStrideIn: Int
  ) {
    let planes = planeShape.reduce(1, *)
    let tile = 32
    parallelFor(0..<planes, grain: Swift.max(1, elementwiseGrain / Swift.max(rows * columns, 1))) { piece in
      for plane in piece {
        var srcBase = 0, dstBase = 0, rest = plane
        for k in stride(from: planeShape.count - 1, through: 0, by: -1) {
          let index = rest % planeShape[k]
          rest /= planeShape[k]
          srcBase += index * planeSourceStrides[k]
          dstBase += index * planeOutputStrides[k]
        }
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
      }
    }
  }
}

// MARK: - Storage entry points

extension Storage {
  /// Writes `source` (this storage's shape with `size` along `axis`) into indices `start..<start+size`
  /// along `axis`. `inner` is the product of the sizes after `axis`.
  func copyBlocks(from source: Storage, axis: Int, start: Int, size: Int, inner: Int) {
    let outer = elementCount(Array(shape[..<axis]))
    let block = size * inner, stride = shape[axis] * inner
    CPU.copyBlocks(
      source.buffer.base, sourceStride: block, into: buffer.base + start * inner, targetStride: stride,
      outer: outer, block: block, adding: false)
  }

  /// Adds `source` (the slice `region` of this storage's shape) into that region.
  func addBlocks(from source: Storage, region: SliceRegion) {
    let block = region.size * region.inner, stride = region.axisSize * region.inner
    let outer = stride == 0 ? 0 : count / stride
    CPU.copyBlocks(
      source.buffer.base, sourceStride: block, into: buffer.base + region.start * region.inner,
      targetStride: stride, outer: outer, block: block, adding: true)
  }

  /// Indices `start..<start+size` along `axis`, as a new storage of `shape`.
  func slice(axis: Int, start: Int, size: Int, inner: Int, shape newShape: [Int]) -> Storage {
    let out = Storage(uninitializedShape: newShape)
    let outer = elementCount(Array(shape[..<axis]))
    let block = size * inner, stride = shape[axis] * inner
    CPU.copyBlocks(
      buffer.base + start * inner, sourceStride: stride, into: out.buffer.base, targetStride: block, outer: outer,
      block: block, adding: false)
    return out
  }

  /// The elements with axes reordered by `axes` (a valid permutation), copied into row-major order:
  /// output axis i is read with the source stride of axis `axes[i]`.
  ///
  /// When the source's contiguous last axis does not stay last (a transpose), the copy runs in
  /// tiles (``CPU/transposePlanes(_:into:planeShape:planeSourceStrides:planeOutputStrides:rows:columns:rowStrideOut:columnStrideIn:)``).
  func permuted(_ axes: [Int]) -> Storage {
    let rank = shape.count
    if axes == Array(0..<rank) { return self }
    let sourceStrides = contiguousStrides(shape)
    let outShape = axes.map { shape[$0] }
    guard let p = axes.firstIndex(of: rank - 1), p != rank - 1, count > 0 else {
      return gathered(shape: outShape, strides: axes.map { sourceStrides[$0] })
    }
    let out = Storage(uninitializedShape: outShape)
    let outStrides = contiguousStrides(outShape)
    // Every output axis but p and the last spans the planes; each plane is [rows, columns].
    let planeAxes = (0..<rank).filter { $0 != p && $0 != rank - 1 }
    CPU.transposePlanes(
      buffer.base, into: out.buffer.base, planeShape: planeAxes.map { outShape[$0] },
      planeSourceStrides: planeAxes.map { sourceStrides[axes[$0]] }, planeOutputStrides: planeAxes.map { outStrides[$0] },
      rows: outShape[p], columns: outShape[rank - 1], rowStrideOut: outStrides[p],
      columnStrideIn: sourceStrides[axes[rank - 1]])
    return out
  }
}
