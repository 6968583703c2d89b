import Testing

@testable import Awesomegrad

@Suite struct BatchTests {
  /// 10 samples in batches of 4: sizes 4, 4, 2 and every index exactly once.
  @Test func everySampleOncePerEpoch() {
    var rng = SeededGenerator(seed: 7)
    let batches = MiniBatches(count: 10, batchSize: 4, shuffle: true, using: &rng)
    let all = Array(batches)
    #expect(all.map(\.count) == [4, 4, 2])
    #expect(batches.batchCount == 3)
    #expect(all.flatMap { $0 }.sorted() == Array(0..<10))
    #expect(all.flatMap { $0 } != Array(0..<10))  // shuffled
  }

  /// 60,000 samples in batches of 64: 937 full batches and one of 32; each index once.
  @Test func largeEpochCoversEverySample() {
    var rng = SeededGenerator(seed: 1)
    var seen = [Int](repeating: 0, count: 60_000)
    var sizes: [Int] = []
    for batch in MiniBatches(count: 60_000, batchSize: 64, using: &rng) {
      sizes.append(batch.count)
      for i in batch { seen[i] += 1 }
    }
    #expect(sizes.count == 938 && sizes.last == 32)
    #expect(seen.allSatisfy { $0 == 1 })
  }

  @Test func dropLastLeavesOutThePartialBatch() {
    let batches = MiniBatches(count: 10, batchSize: 4, dropLast: true)
    #expect(Array(batches) == [[0, 1, 2, 3], [4, 5, 6, 7]])
    #expect(batches.batchCount == 2)
    #expect(Array(MiniBatches(count: 8, batchSize: 4, dropLast: true)).count == 2)
    #expect(Array(MiniBatches(count: 0, batchSize: 4)).isEmpty)
  }

  /// The same seed gives the same order; another seed another order.
  @Test func shuffleIsReproducible() {
    var a = SeededGenerator(seed: 3), b = SeededGenerator(seed: 3), c = SeededGenerator(seed: 4)
    let first = MiniBatches(count: 50, batchSize: 8, using: &a).order
    #expect(first == MiniBatches(count: 50, batchSize: 8, using: &b).order)
    #expect(first != MiniBatches(count: 50, batchSize: 8, using: &c).order)
  }

  /// Rows 2 and 0 of [[0, 1], [2, 3], [4, 5]] → [[4, 5], [0, 1]]; works for [n, a, b] too.
  @Test func gatheringRows() {
    let x = Tensor<Float>.arange(0, 6).reshaped([3, 2])
    let batch = x.gatheringRows([2, 0])
    #expect(batch.shape == [2, 2] && batch.scalars == [4, 5, 0, 1])
    let cube = Tensor<Double>.arange(0, 12).reshaped([3, 2, 2])
    #expect(cube.gatheringRows([1]).shape == [1, 2, 2])
    #expect(cube.gatheringRows([1]).scalars == [4, 5, 6, 7])
  }
}
