/// Row gathers and their adjoint, the scatter-add: embedding lookups, `index_select` along axis 0 and
/// the assembly of mini-batches.
///
/// A gather copies whole rows, one output row per index, split over the pool freely. The scatter-add
/// (the gradient of a gather) is partitioned by the row it adds into, not by the index: the indices
/// are first bucketed by target row, keeping their order, and then each thread owns a range of
/// target rows and adds their gradients in index order. No two threads write one row, and each row
/// gets its sums in the same order at any thread count (the order a serial loop would use).
extension CPU {
  /// target row j = source row `rows[j]`, for every index j, with rows of `width` scalars.
  @inline(__always)
  static func gatherRows<T>(
    _ source: UnsafePointer<T>, rows: UnsafeBufferPointer<Int>, width: Int, into target: UnsafeMutablePointer<T>
  ) {
    parallelFor(0..<rows.count, grain: Swift.max(1, 4 * elementwiseGrain / Swift.max(width, 1))) { piece in
      for j in piece { (target + j * width).update(from: source + rows[j] * width, count: width) }
    }
  }

  /// target row j = table[source row `rows[j]`], for rows of `width` bytes: a batch of images
  /// gathered and converted through a 256-entry lookup table (MNIST's pixels to normalised scalars).
  /// `package`: `AwesomegradDatasets` gathers its batches with it, from generic code in another
  /// module, which the specialisations below serve (a generic loop there ran 8% of a fashion-MLP step
  /// serially, through the value witnesses of T).
  @_specialize(where T == Float)
  @_specialize(where T == Double)
  package static func gatherRows<T>(
    _ source: UnsafePointer<UInt8>, rows: UnsafeBufferPointer<Int>, width: Int, through table: UnsafePointer<T>,
    into target: UnsafeMutablePointer<T>
  ) {
    parallelFor(0..<rows.count, grain: Swift.max(1, elementwiseGrain / Swift.max(width, 1))) { piece in
      for j in piece {
        let from = source + rows[j] * width, to = target + j * width
        for i in 0..<width { to[i] = table[Int(from[i])] }
      }
    }
  }

  /// target row r = Σ over the j with rows[j] = r of source row j (in increasing j), for every r in
  /// `0..<targetRows` (rows no index names are 0).
  @inline(__always)
  static func scatterAddRows<T: TensorScalar>(
    _ source: UnsafePointer<T>, rows: UnsafeBufferPointer<Int>, width: Int, into target: UnsafeMutablePointer<T>,
    targetRows: Int
  ) {
    let count = rows.count
    // Bucket the indices by target row (a counting sort, stable): the indices of row r are
    // order[start[r]..<start[r + 1]], in increasing j.
    let start = UnsafeMutablePointer<Int>.allocate(capacity: targetRows + 1)
    let order = UnsafeMutablePointer<Int>.allocate(capacity: Swift.max(count, 1))
    defer {
      start.deallocate()
      order.deallocate()
    }
    start.initialize(repeating: 0, count: targetRows + 1)
    for j in 0..<count { start[rows[j] + 1] += 1 }
    for r in 0..<targetRows { start[r + 1] += start[r] }
    withUnsafeTemporaryAllocation(of: Int.self, capacity: targetRows) { next in
      let next = next.baseAddress!
      next.initialize(from: start, count: targetRows)
      for j in 0..<count {
        order[next[rows[j]]] = j
        next[rows[j]] += 1
      }
    }
    let work = Swift.max(1, (count + targetRows) * width / Swift.max(targetRows, 1))
    parallelFor(0..<targetRows, grain: Swift.max(1, elementwiseGrain / work)) { piece in
      for r in piece {
        let to = target + r * width
        to.update(repeating: 0, count: width)
        for k in start[r]..<start[r + 1] {
          let from = source + order[k] * width
          for i in 0..<width { to[i] += from[i] }
        }
      }
    }
  }

  /// y[n] = x[offsets[n]] for every offset.
  @inline(__always)
  static func gatherElements<T>(_ x: UnsafePointer<T>, offsets: UnsafeBufferPointer<Int>, into y: UnsafeMutablePointer<T>) {
    parallelFor(0..<offsets.count, grain: elementwiseGrain) { piece in
      for n in piece { y[n] = x[offsets[n]] }
    }
  }

  /// target[offsets[n]] += source[n] for every n, in order (several n may name one offset, so this
  /// stays on one thread: its order is the serial order).
  @inline(__always)
  static func scatterAddElements<T: TensorScalar>(
    _ source: UnsafePointer<T>, offsets: UnsafeBufferPointer<Int>, into target: UnsafeMutablePointer<T>
  ) {
    for n in 0..<offsets.count { target[offsets[n]] += source[n] }
  }
}
