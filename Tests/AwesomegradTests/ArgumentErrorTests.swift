import Awesomegrad
import AwesomegradDatasets
import Testing

/// Bad arguments that are not shapes stop with a message naming the function, the bad value and the
/// caller's file and line. They go through `fatalError`, whose message release builds keep (a
/// `precondition`'s message is dropped in release builds, which the examples use).
@Suite struct ArgumentErrorTests {
  static func standardError(_ result: ExitTest.Result?) -> String {
    String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
  }

  @Test func miniBatchesRejectsABatchSizeOfZero() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = MiniBatches(count: 10, batchSize: 0)
    }
    let message = Self.standardError(result)
    #expect(message.contains("MiniBatches: batchSize must be positive, got 0"), "\(message)")
    #expect(message.contains("ArgumentErrorTests.swift:"), "\(message)")
  }

  @Test func miniBatchesRejectsANegativeCount() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      var rng = SeededGenerator(seed: 0)
      _ = MiniBatches(count: -3, batchSize: 4, using: &rng)
    }
    let message = Self.standardError(result)
    #expect(message.contains("MiniBatches: count must be ≥ 0, got -3"), "\(message)")
    #expect(message.contains("ArgumentErrorTests.swift:"), "\(message)")
  }

  @Test func moonsNeedsTwoPoints() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      var rng = SeededGenerator(seed: 0)
      _ = moons(n: 1, as: Float.self, using: &rng)
    }
    let message = Self.standardError(result)
    #expect(message.contains("moons: n must be at least 2 (one point per moon), got 1"), "\(message)")
    #expect(message.contains("ArgumentErrorTests.swift:"), "\(message)")
  }

  /// The fixture split has 5 images, so index 5 is one past the end; the position in `indices` is named.
  @Test func mnistBatchRejectsAnIndexOutOfRange() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      let split = try MNISTSplit(images: gzipFixture("images.idx3.gz"), labels: gzipFixture("labels.idx1.gz"))
      _ = split.batch([0, 5], as: Float.self)
    }
    let message = Self.standardError(result)
    #expect(message.contains("MNISTSplit.batch: index 5 at position 1 is outside 0..<5"), "\(message)")
    #expect(message.contains("ArgumentErrorTests.swift:"), "\(message)")
  }

  /// 2³² · 2³² = 2⁶⁴ does not fit in Int: the count would wrap to 0 and allocate nothing.
  @Test func anOverflowingShapeSaysSo() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Tensor<Float>.zeros([1 << 32, 1 << 32])
    }
    let message = Self.standardError(result)
    #expect(message.contains("shape [4294967296, 4294967296] has more elements than Int.max"), "\(message)")
  }
}
