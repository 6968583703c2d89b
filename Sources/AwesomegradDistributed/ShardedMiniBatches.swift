import Awesomegrad

extension MiniBatches {
  /// This rank's share of every batch, for data-parallel training (PyTorch's `DistributedSampler`).
  ///
  /// Make the `MiniBatches` with the *global* batch size, per-rank batch × size, from a generator
  /// seeded alike on every rank, so that every rank draws the same shuffle; then each global batch is
  /// cut into `size` contiguous parts of equal length and rank r takes part r:
  ///
  ///     global batch k = order[k·size·B ..< (k+1)·size·B]
  ///     rank r's batch k = global batch k [r·B ..< (r+1)·B]
  ///
  /// Averaging the ranks' gradients of their batch-mean losses then gives exactly the gradient of one
  /// process at the global batch. A last batch that does not split evenly is padded, as
  /// `DistributedSampler` pads, with indices from the start of the epoch's order, so that every rank
  /// runs the same number of steps with the same batch length (those few samples count twice).
  ///
  /// ```swift
  /// var rng = SeededGenerator(seed: seed)                     // the same seed on every rank
  /// let batches = MiniBatches(count: n, batchSize: 64 * context.size, using: &rng)
  /// for indices in batches.sharded(for: context) { … }        // 64 indices per rank per step
  /// ```
  ///
  /// `0 ≤ rank < size`, and `batchSize` must be a multiple of `size`; otherwise the program stops
  /// with a message naming the values and the caller's `file:line`.
  public func sharded(
    rank: Int, of size: Int, file: StaticString = #fileID, line: UInt = #line
  ) -> ShardedMiniBatches {
    ShardedMiniBatches(self, rank: rank, of: size, file: file, line: line)
  }

  /// This context's rank's share of every batch: `sharded(rank: context.rank, of: context.size)`.
  public func sharded(
    for context: DistributedContext, file: StaticString = #fileID, line: UInt = #line
  ) -> ShardedMiniBatches {
    ShardedMiniBatches(self, rank: context.rank, of: context.size, file: file, line: line)
  }
}

/// The mini-batches of one rank: its contiguous part of each global batch of a ``MiniBatches``
/// (see ``MiniBatches/sharded(rank:of:)``). Every rank gets the same number of batches.
public struct ShardedMiniBatches: Sequence, Sendable {
  /// The global batches, the same on every rank.
  public let global: MiniBatches
  /// The rank whose share this is.
  public let rank: Int
  /// The number of ranks sharing each batch.
  public let size: Int

  /// Rank `rank`'s share of `global`'s batches among `size` ranks.
  ///
  /// `0 ≤ rank < size`, and `global.batchSize` must be a multiple of `size`; otherwise the program
  /// stops with a message naming the values and the caller's `file:line`.
  public init(
    _ global: MiniBatches, rank: Int, of size: Int, file: StaticString = #fileID, line: UInt = #line
  ) {
    if size < 1 || rank < 0 || rank >= size {
      argumentFailure("sharded", "rank \(rank) is not in 0..<\(size)", file: file, line: line)
    }
    if global.batchSize % size != 0 {
      argumentFailure(
        "sharded",
        "the global batch size \(global.batchSize) is not a multiple of \(size) ranks; "
          + "make the MiniBatches with batchSize = per-rank batch × size", file: file, line: line)
    }
    self.global = global
    self.rank = rank
    self.size = size
  }

  /// The number of batches, the same on every rank.
  public var batchCount: Int { global.batchCount }

  /// The length of this rank's part of a full batch: the global batch size / size.
  public var batchSize: Int { global.batchSize / size }

  /// An iterator over this rank's batches, in the order of the global batches.
  public func makeIterator() -> Iterator { Iterator(sharded: self, batches: global.makeIterator()) }

  /// Serves this rank's part of each global batch in turn.
  public struct Iterator: IteratorProtocol {
    let sharded: ShardedMiniBatches
    var batches: MiniBatches.Iterator

    /// This rank's indices of the next global batch, or nil after the last one.
    public mutating func next() -> [Int]? {
      guard let batch = batches.next() else { return nil }
      let size = sharded.size, order = sharded.global.order
      let part = (batch.count + size - 1) / size  // every rank's length, padding included
      let lower = sharded.rank * part
      // Positions past the batch's end wrap to the start of the epoch's order.
      return (lower..<(lower + part)).map {
        $0 < batch.count ? batch[$0] : order[($0 - batch.count) % order.count]
      }
    }
  }
}

/// Stops the program for a bad argument (a programmer error, not a run-time failure of the job): the
/// message names the function, the problem with the value and the caller's file and line, in release
/// builds too (a `precondition`'s message is dropped there). The core library's `argumentFailure`,
/// which this module cannot see.
private func argumentFailure(_ function: String, _ problem: String, file: StaticString, line: UInt) -> Never {
  fatalError("\(function): \(problem) (at \(file):\(line))", file: file, line: line)
}
