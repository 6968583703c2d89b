import Foundation
import Testing

@testable import Awesomegrad

/// The library's one thread pool: every index runs exactly once, nested loops run serially, and a
/// matrix product gives the same bits at every thread count.
///
/// The thread count is process-wide and other tests run at the same time, so these tests set it but
/// never assert its value: every result here must hold whatever count another test has just set.
@Suite struct ThreadPoolTests {
  /// parallelFor(0..<n, grain: g) covers each index once, for sizes around the grain and many pieces.
  @Test(arguments: [1, 2, 3, 4])
  func parallelForVisitsEveryIndexOnce(threads: Int) {
    setThreadCount(threads)
    for (count, grain) in [(0, 4), (1, 4), (4, 4), (5, 4), (1000, 7), (100_003, 1000)] {
      var visits = [Int](repeating: 0, count: count)
      visits.withUnsafeMutableBufferPointer { visits in
        parallelFor(0..<count, grain: grain) { piece in
          for i in piece { visits[i] += 1 }
        }
      }
      #expect(visits.allSatisfy { $0 == 1 }, "count \(count), grain \(grain), \(threads) threads")
    }
  }

  /// parallelChunks(c) calls the body once per chunk index.
  @Test(arguments: [1, 2, 3])
  func parallelChunksRunsEachChunkOnce(threads: Int) {
    setThreadCount(threads)
    var calls = [Int](repeating: 0, count: 257)
    calls.withUnsafeMutableBufferPointer { calls in
      parallelChunks(257) { calls[$0] += 1 }
    }
    #expect(calls == [Int](repeating: 1, count: 257))
  }

  /// A loop inside a loop runs on the inner caller's thread, in order, without waiting for the pool.
  @Test func nestedLoopsRunSerially() {
    setThreadCount(3)
    var sums = [Int](repeating: 0, count: 8)
    sums.withUnsafeMutableBufferPointer { sums in
      parallelChunks(8) { outer in
        var order: [Int] = []
        parallelChunks(5) { order.append($0) }  // nested: must run 0, 1, 2, 3, 4 here
        sums[outer] = order == [0, 1, 2, 3, 4] ? 1 : 0
      }
    }
    #expect(sums == [Int](repeating: 1, count: 8))
  }

  /// AWESOMEGRAD_NUM_THREADS wins when it is a positive integer; otherwise the usable cores.
  @Test func defaultCountReadsTheEnvironment() {
    let cores = ThreadSetting.availableCores
    #expect(cores >= 1)
    #expect(ThreadSetting.defaultCount(environment: "3") == 3)
    #expect(ThreadSetting.defaultCount(environment: " 12 ") == 12)
    #expect(ThreadSetting.defaultCount(environment: nil) == cores)
    #expect(ThreadSetting.defaultCount(environment: "0") == cores)
    #expect(ThreadSetting.defaultCount(environment: "-2") == cores)
    #expect(ThreadSetting.defaultCount(environment: "many") == cores)
  }

  /// The blocks depend on the shape only, cover every row (or column) once, and stay within bounds.
  @Test func gemmBlocksCoverTheOutput() {
    for (m, n, k) in [(1024, 1024, 1024), (2048, 384, 128), (65, 128, 2048), (3, 5, 7), (100_000, 1, 1)] {
      let blocks = GemmBlocks(m: m, n: n, k: k)
      #expect(blocks.count >= 1 && blocks.count <= GemmBlocks.maximumCount)
      var covered = 0
      for b in 0..<blocks.count {
        let range = blocks.range(of: b)
        #expect(range.lowerBound == covered && !range.isEmpty)
        covered = range.upperBound
      }
      #expect(covered == (blocks.alongRows ? m : n))
      #expect(blocks.alongRows == (m >= n))
    }
    // Small products are one call; 1024³ is split.
    #expect(GemmBlocks(m: 64, n: 64, k: 64).count == 1)
    #expect(GemmBlocks(m: 1024, n: 1024, k: 1024).count > 1)
  }

  /// C = op(A)·op(B) through the library's gemm, once at each thread count, for fixed A (m×k after
  /// op) and B (k×n after op) filled with sin and cos: the inputs and the C of every run.
  static func gemmAtThreadCounts(
    _ counts: [Int], m: Int, n: Int, k: Int, transposeA ta: Bool = false, transposeB tb: Bool = false
  ) -> (a: [Float], b: [Float], results: [[Float]]) {
    let a = (0..<(m * k)).map { Float(sin(0.37 * Double($0))) }
    let b = (0..<(k * n)).map { Float(cos(0.11 * Double($0))) }
    let results = counts.map { threads in
      setThreadCount(threads)
      var c = [Float](repeating: 0, count: m * n)
      a.withUnsafeBufferPointer { a in
        b.withUnsafeBufferPointer { b in
          c.withUnsafeMutableBufferPointer { c in
            BLAS.gemm(
              transposeA: ta, transposeB: tb, m: m, n: n, k: k, alpha: 1, a: a.baseAddress!,
              lda: ta ? m : k, b: b.baseAddress!, ldb: tb ? k : n, beta: 0, c: c.baseAddress!, ldc: n)
          }
        }
      }
      return c
    }
    return (a, b, results)
  }

  /// C = op(A)·op(B) through the library's gemm at 1, 2 and 3 threads: the same bits every time, and
  /// within rounding of a plain triple loop in Double (the independent reference).
  @Test(arguments: [
    (300, 200, 500, false, false), (300, 200, 500, true, true), (64, 1000, 700, false, true),
    (64, 1000, 700, true, false), (2048, 96, 64, false, false),
    // A row vector times a matrix, both weight layouts (gemv, as in a decoding step).
    (1, 2304, 768, false, false), (1, 3001, 700, false, true), (1, 1500, 900, true, true),
  ])
  func gemmIsTheSameAtEveryThreadCount(shape: (Int, Int, Int, Bool, Bool)) {
    let (m, n, k, ta, tb) = shape
    #expect(GemmBlocks(m: m, n: n, k: k).count > 1, "the shape must be split to test anything")
    let (a, b, results) = Self.gemmAtThreadCounts([1, 2, 3], m: m, n: n, k: k, transposeA: ta, transposeB: tb)
    #expect(results[0].map(\.bitPattern) == results[1].map(\.bitPattern))
    #expect(results[0].map(\.bitPattern) == results[2].map(\.bitPattern))
    // op(A)[i][l] and op(B)[l][j] read from the stored layouts, summed in Double.
    var worst = 0.0
    for i in stride(from: 0, to: m, by: 37) {
      for j in stride(from: 0, to: n, by: 13) {
        var sum = 0.0
        for l in 0..<k {
          let x = ta ? a[l * m + i] : a[i * k + l]
          let y = tb ? b[j * k + l] : b[l * n + j]
          sum += Double(x) * Double(y)
        }
        worst = max(worst, abs(sum - Double(results[0][i * n + j])))
      }
    }
    #expect(worst < 1e-3 * Double(k).squareRoot())
  }
}
