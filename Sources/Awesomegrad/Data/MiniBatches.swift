/// The sample indices of one epoch, split into mini-batches.
///
/// With `shuffle`, the order is a uniformly random permutation drawn from the generator when the
/// sequence is made (make one per epoch); without, it is 0, 1, 2, …. The last batch holds the
/// remainder when `count` is not a multiple of `batchSize`, unless `dropLast` leaves it out.
///
/// ```swift
/// for indices in MiniBatches(count: 60_000, batchSize: 64, shuffle: true, using: &rng) {
///   let x = data.batch(indices, as: Float.self)   // [indices.count, 784]
///   …
/// }
/// ```
public struct MiniBatches: Sequence, Sendable {
  /// The indices of the epoch in the order they are served.
  public let order: [Int]
  /// The number of indices per batch (the last batch may be smaller).
  public let batchSize: Int
  /// Whether a last batch smaller than `batchSize` is left out.
  public let dropLast: Bool

  /// The indices `0..<count` shuffled with `generator` (when `shuffle`), cut into batches.
  public init<G: RandomNumberGenerator>(
    count: Int, batchSize: Int, shuffle: Bool = true, dropLast: Bool = false, using generator: inout G,
    file: StaticString = #fileID, line: UInt = #line
  ) {
    if count < 0 { argumentFailure("MiniBatches", "count must be ≥ 0, got \(count)", file: file, line: line) }
    if batchSize < 1 {
      argumentFailure("MiniBatches", "batchSize must be positive, got \(batchSize)", file: file, line: line)
    }
    var order = Array(0..<count)
    if shuffle { order.shuffle(using: &generator) }
    self.order = order
    self.batchSize = batchSize
    self.dropLast = dropLast
  }

  /// The batches in order, without shuffling (no generator needed).
  public init(
    count: Int, batchSize: Int, dropLast: Bool = false, file: StaticString = #fileID, line: UInt = #line
  ) {
    var unused = SeededGenerator(seed: 0)
    self.init(
      count: count, batchSize: batchSize, shuffle: false, dropLast: dropLast, using: &unused, file: file,
      line: line)
  }

  /// The number of batches.
  public var batchCount: Int {
    dropLast ? order.count / batchSize : (order.count + batchSize - 1) / batchSize
  }

  /// The batches in order.
  public func makeIterator() -> Iterator { Iterator(batches: self) }

  /// Walks the batches of a ``MiniBatches``.
  public struct Iterator: IteratorProtocol {
    let batches: MiniBatches
    var start = 0

    /// The next batch of indices, or nil after the last.
    public mutating func next() -> [Int]? {
      let remaining = batches.order.count - start
      guard remaining > 0, remaining >= batches.batchSize || !batches.dropLast else { return nil }
      let end = start + Swift.min(batches.batchSize, remaining)
      defer { start = end }
      return Array(batches.order[start..<end])
    }
  }
}

extension Tensor {
  /// The rows `indices` of a `[n, ...]` tensor, stacked into `[indices.count, ...]`: a copy for
  /// assembling mini-batches from a data set, outside the graph (the result is a leaf).
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func gatheringRows(_ indices: [Int], file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    if rank == 0 {
      shapeFailure("gatheringRows", "needs at least one axis", shapes: [shape], file: file, line: line)
    }
    let n = shape[0], width = count / Swift.max(n, 1)
    let out = Storage<Scalar>(uninitializedShape: [indices.count] + shape.dropFirst())
    for index in indices where index < 0 || index >= n {
      shapeFailure("gatheringRows", "row \(index) is outside 0..<\(n)", shapes: [shape], file: file, line: line)
    }
    indices.withUnsafeBufferPointer { rows in
      CPU.gatherRows(storage.buffer.base, rows: rows, width: width, into: out.buffer.base)
    }
    return Tensor(out)
  }
}
