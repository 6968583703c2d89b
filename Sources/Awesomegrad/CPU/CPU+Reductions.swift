/// Reductions (sums and maxima over all elements or over one axis), deterministic at any thread count.
///
/// A reduction's result depends on the order of its additions, so its work is cut into chunks whose
/// bounds follow from the sizes alone, never from the thread count; each chunk writes one partial,
/// and the partials are combined in chunk order on the calling thread. One thread runs the same
/// chunks in the same order, so 1, 2 or 64 threads give the same bits. A run of contiguous values is
/// summed in 8 lanes (``sumOfRun(_:count:)``): 8 independent chains vectorise, and each chain's
/// rounding error grows with n/8 instead of n.
extension CPU {
  /// The elements summed per chunk of a long run: 32 Ki, a few microseconds of work.
  static let reductionBlock = 32_768
  /// The most chunks one axis reduction splits its rows into (bounds the partials' memory).
  static let maximumReductionChunks = 64

  /// Combines `partial(range)` over consecutive ranges of at most `block` indices of `0..<count`,
  /// in order, with `combine`: the chunks run on the pool, the combination on the caller.
  @inline(__always)
  static func reduceInBlocks<T>(
    count: Int, block: Int = reductionBlock, _ partial: (Range<Int>) -> T, combine: (T, T) -> T
  ) -> T {
    if count <= block { return partial(0..<count) }
    let blocks = (count + block - 1) / block
    return withUnsafeTemporaryAllocation(of: T.self, capacity: blocks) { partials in
      let base = partials.baseAddress!
      parallelChunks(blocks) { b in
        (base + b).initialize(to: partial((b * block)..<Swift.min(count, (b + 1) * block)))
      }
      var total = base[0]
      for b in 1..<blocks { total = combine(total, base[b]) }
      base.deinitialize(count: blocks)
      return total
    }
  }

  /// Σ p[0..<count], in 8 lanes per block of ``reductionBlock``, the blocks added in order.
  @inline(__always)
  static func sum<T: TensorScalar>(_ p: UnsafePointer<T>, count: Int) -> T {
    reduceInBlocks(count: count, { sumOfRun(p + $0.lowerBound, count: $0.count) }, combine: +)
  }

  /// Σ p[i]² over `count` values, as ``sum(_:count:)``.
  @inline(__always)
  static func sumOfSquares<T: TensorScalar>(_ p: UnsafePointer<T>, count: Int) -> T {
    reduceInBlocks(count: count, { dotOfRuns(p + $0.lowerBound, p + $0.lowerBound, count: $0.count) }, combine: +)
  }

  /// Reduces the middle axis of `x`, read as `[outer, size, inner]`, into `y` `[outer, inner]`.
  ///
  /// - `run(p, n)` reduces n contiguous values (the last axis, inner = 1);
  /// - `combine` folds one value into a running one, starting from `initial`.
  ///
  /// Along the last axis each output is one `run` (split in blocks when long); along another axis
  /// each output folds its `size` rows in order, or, when there are too few outputs to share among
  /// threads, the rows are cut into at most ``maximumReductionChunks`` shape-fixed chunks whose
  /// partial rows are folded in chunk order.
  @inline(__always)
  static func reduceAxis<T: TensorScalar>(
    _ x: UnsafePointer<T>, into y: UnsafeMutablePointer<T>, outer: Int, size: Int, inner: Int, initial: T,
    run: (UnsafePointer<T>, Int) -> T, combine: (T, T) -> T
  ) {
    if outer == 0 || inner == 0 { return }
    if inner == 1 {
      parallelFor(0..<outer, grain: Swift.max(1, elementwiseGrain / Swift.max(size, 1))) { rows in
        for o in rows {
          let row = x + o * size
          y[o] = size == 0 ? initial : reduceInBlocks(count: size, { run(row + $0.lowerBound, $0.count) }, combine: combine)
        }
      }
      return
    }
    let outputs = outer * inner
    let chunks = outputs >= 4096 ? 1 : Swift.min(maximumReductionChunks, size * outputs / reductionBlock, size)
    if chunks <= 1 {
      // Each output folds its rows in order; threads take disjoint outputs.
      parallelFor(0..<outputs, grain: Swift.max(1, elementwiseGrain / Swift.max(size, 1))) { piece in
        var start = piece.lowerBound
        while start < piece.upperBound {
          let o = start / inner, first = start % inner
          let last = Swift.min(inner, first + piece.upperBound - start)
          foldRows(x + o * size * inner + first, size: size, inner: inner, into: y + o * inner + first,
                   columns: last - first, initial: initial, combine: combine)
          start += last - first
        }
      }
      return
    }
    // Few outputs, many rows: shape-fixed chunks of rows, one partial row each, folded in order.
    let rowsPerChunk = (size + chunks - 1) / chunks
    let chunkCount = (size + rowsPerChunk - 1) / rowsPerChunk
    withUnsafeTemporaryAllocation(of: T.self, capacity: outer * chunkCount * inner) { partials in
      let p = partials.baseAddress!
      parallelChunks(outer * chunkCount) { task in
        let o = task / chunkCount, c = task % chunkCount
        let rows = (c * rowsPerChunk)..<Swift.min(size, (c + 1) * rowsPerChunk)
        foldRows(x + (o * size + rows.lowerBound) * inner, size: rows.count, inner: inner,
                 into: p + task * inner, columns: inner, initial: initial, combine: combine)
      }
      for o in 0..<outer {
        let target = y + o * inner
        target.update(from: p + o * chunkCount * inner, count: inner)
        for c in 1..<chunkCount {
          let partial = p + (o * chunkCount + c) * inner
          for i in 0..<inner { target[i] = combine(target[i], partial[i]) }
        }
      }
    }
  }

  /// target[i] = fold of rows 0..<size of column i (rows `inner` apart), for `columns` columns.
  @inline(__always)
  static func foldRows<T>(
    _ x: UnsafePointer<T>, size: Int, inner: Int, into target: UnsafeMutablePointer<T>, columns: Int,
    initial: T, combine: (T, T) -> T
  ) {
    target.update(repeating: initial, count: columns)
    for r in 0..<size {
      let row = x + r * inner
      for i in 0..<columns { target[i] = combine(target[i], row[i]) }
    }
  }
}

/// Σ p[0..<count], summed in 8 lanes (a single running sum is a chain of dependent adds, several
/// times slower, and its error grows with count instead of count/8).
@inline(__always)
func sumOfRun<Scalar: TensorScalar>(_ p: UnsafePointer<Scalar>, count: Int) -> Scalar {
  var lanes = SIMD8<Scalar>.zero
  var i = 0
  let raw = UnsafeRawPointer(p)
  while i + 8 <= count {
    lanes += raw.loadUnaligned(fromByteOffset: i * MemoryLayout<Scalar>.stride, as: SIMD8<Scalar>.self)
    i += 8
  }
  var total = lanes.sum()
  while i < count {
    total += p[i]
    i += 1
  }
  return total
}

/// Σ a[i]·b[i] over `count` values, in 8 lanes as ``sumOfRun(_:count:)``.
@inline(__always)
func dotOfRuns<Scalar: TensorScalar>(_ a: UnsafePointer<Scalar>, _ b: UnsafePointer<Scalar>, count: Int) -> Scalar {
  var lanes = SIMD8<Scalar>.zero
  var i = 0
  let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
  let stride = MemoryLayout<Scalar>.stride
  while i + 8 <= count {
    let x = ra.loadUnaligned(fromByteOffset: i * stride, as: SIMD8<Scalar>.self)
    let y = rb.loadUnaligned(fromByteOffset: i * stride, as: SIMD8<Scalar>.self)
    lanes += x * y
    i += 8
  }
  var total = lanes.sum()
  while i < count {
    total += a[i] * b[i]
    i += 1
  }
  return total
}

// MARK: - Storage entry points

extension Storage {
  /// The sum over `axes` (sorted, unique), with each reduced axis kept as size 1.
  func sum(keepingAxes axes: [Int]) -> Storage {
    reduce(keepingAxes: axes, initial: 0, run: { sumOfRun($0, count: $1) }, combine: +)
  }

  /// The maximum over `axes` (sorted, unique), with each reduced axis kept as size 1.
  func max(keepingAxes axes: [Int]) -> Storage {
    reduce(keepingAxes: axes, initial: -.infinity, run: { maximumOfRun($0, count: $1) }) { Swift.max($0, $1) }
  }

  /// The maximum over `axes` (sorted, unique), with each reduced axis kept as size 1; NaN if any
  /// reduced element is NaN, as `torch.amax` (`Swift.max` would skip a NaN that comes after a number).
  func maxPropagatingNaN(keepingAxes axes: [Int]) -> Storage {
    // Once the running value is NaN it stays NaN; a NaN element fails `acc > x` and is taken.
    reduce(keepingAxes: axes, initial: -.infinity, run: { maximumOfRunPropagatingNaN($0, count: $1) }) { acc, x in
      acc > x || acc.isNaN ? acc : x
    }
  }

  /// Reduces `axes` one at a time; each step reads `[outer, size, inner]` and writes `[outer, 1, inner]`.
  @inline(__always)
  func reduce(
    keepingAxes axes: [Int], initial: Scalar, run: (UnsafePointer<Scalar>, Int) -> Scalar,
    combine: (Scalar, Scalar) -> Scalar
  ) -> Storage {
    var current = self
    for axis in axes {
      let size = current.shape[axis]
      var outer = 1, inner = 1
      for i in 0..<axis { outer &*= current.shape[i] }
      for i in (axis + 1)..<current.shape.count { inner &*= current.shape[i] }
      var outShape = current.shape
      outShape[axis] = 1
      let out = Storage(uninitializedShape: outShape)
      CPU.reduceAxis(
        current.buffer.base, into: out.buffer.base, outer: outer, size: size, inner: inner, initial: initial,
        run: run, combine: combine)
      current = out
    }
    return current
  }

  /// The sum of all elements (deterministic: see `CPU/Reductions.swift`).
  func sumAll() -> Scalar { CPU.sum(buffer.base, count: count) }
}

/// The largest of `count` ≥ 1 values (`Swift.max` order: a NaN after a number is skipped).
@inline(__always)
func maximumOfRun<Scalar: TensorScalar>(_ p: UnsafePointer<Scalar>, count: Int) -> Scalar {
  var m = -Scalar.infinity
  for i in 0..<count { m = Swift.max(m, p[i]) }
  return m
}

/// The largest of `count` values, NaN if any is NaN.
@inline(__always)
func maximumOfRunPropagatingNaN<Scalar: TensorScalar>(_ p: UnsafePointer<Scalar>, count: Int) -> Scalar {
  var m = -Scalar.infinity
  for i in 0..<count {
    let x = p[i]
    m = m > x || m.isNaN ? m : x
  }
  return m
}
