import Awesomegrad
import AwesomegradDistributed
import Testing

/// How `MiniBatches.sharded(rank:of:)` splits each global batch into contiguous, equal parts.
@Suite struct ShardedMiniBatchesTests {
  /// 12 samples, global batch 4, 2 ranks, no shuffle: global batches [0…3] [4…7] [8…11];
  /// rank 0 takes the first half of each, rank 1 the second.
  @Test func splitsEachGlobalBatchContiguously() {
    let global = MiniBatches(count: 12, batchSize: 4)
    #expect(Array(global.sharded(rank: 0, of: 2)) == [[0, 1], [4, 5], [8, 9]])
    #expect(Array(global.sharded(rank: 1, of: 2)) == [[2, 3], [6, 7], [10, 11]])
    #expect(global.sharded(rank: 1, of: 2).batchCount == 3)
    #expect(global.sharded(rank: 1, of: 2).batchSize == 2)
  }

  /// The ranks' parts, concatenated in rank order, are the global batch: with the same seed on every
  /// rank the shuffle is the same, and the union over ranks is the one-process epoch.
  @Test func ranksTogetherServeTheGlobalBatches() {
    for size in [1, 2, 3, 4] {
      var rng = SeededGenerator(seed: 7)
      let global = MiniBatches(count: 96, batchSize: 8 * size, shuffle: true, using: &rng)
      let parts = (0..<size).map { Array(global.sharded(rank: $0, of: size)) }
      for (k, batch) in Array(global).enumerated() {
        #expect(parts.flatMap { $0[k] } == batch)
      }
    }
  }

  /// 10 samples, global batch 4, 2 ranks: the last global batch [8, 9] splits into [8] and [9]; with 3
  /// ranks and global batch 6 the last batch [6…9] (4 samples) is padded to 2 per rank with the
  /// first indices of the epoch (DistributedSampler's rule): [6, 7] [8, 9] [0, 1].
  @Test func padsTheLastBatchFromTheStartOfTheEpoch() {
    let two = MiniBatches(count: 10, batchSize: 4)
    #expect(Array(two.sharded(rank: 0, of: 2)).last == [8])
    #expect(Array(two.sharded(rank: 1, of: 2)).last == [9])
    let three = MiniBatches(count: 10, batchSize: 6)
    #expect((0..<3).map { Array(three.sharded(rank: $0, of: 3)).last! } == [[6, 7], [8, 9], [0, 1]])
    // 7 samples at global batch 6 over 3 ranks: the last batch [6] becomes [6] [0] [1].
    let seven = MiniBatches(count: 7, batchSize: 6)
    #expect((0..<3).map { Array(seven.sharded(rank: $0, of: 3)).last! } == [[6], [0], [1]])
  }

  @Test func everyRankRunsTheSameNumberOfSteps() {
    let global = MiniBatches(count: 61, batchSize: 6, dropLast: true)
    let counts = (0..<3).map { Array(global.sharded(rank: $0, of: 3)).count }
    #expect(counts == [10, 10, 10])
  }
}

/// Bad arguments to the sharding stop through `fatalError` with a message naming the function, the
/// values and the caller's file and line, in release builds too (a `precondition`'s message is
/// dropped there, and it named the library's line, not the caller's).
@Suite struct ShardedMiniBatchesArgumentTests {
  static func standardError(_ result: ExitTest.Result?) -> String {
    String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
  }

  /// A global batch of 10 cannot be cut into 3 equal parts.
  @Test func aBatchNotDivisibleByTheRanksNamesBoth() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = MiniBatches(count: 20, batchSize: 10).sharded(rank: 0, of: 3)
    }
    let message = Self.standardError(result)
    #expect(
      message.contains("sharded: the global batch size 10 is not a multiple of 3 ranks"), "\(message)")
    #expect(message.contains("ShardedMiniBatchesTests.swift:"), "\(message)")
  }

  @Test func aRankOutsideTheJobIsNamed() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = ShardedMiniBatches(MiniBatches(count: 8, batchSize: 4), rank: 2, of: 2)
    }
    let message = Self.standardError(result)
    #expect(message.contains("sharded: rank 2 is not in 0..<2"), "\(message)")
    #expect(message.contains("ShardedMiniBatchesTests.swift:"), "\(message)")
  }
}
