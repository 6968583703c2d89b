/// How `BLAS.gemm` splits a product C = op(A)·op(B) (C is m×n, the sum runs over k) across threads:
/// into `count` blocks of C's rows, or of its columns when C is wider than tall, never along k.
///
/// The blocks depend on m, n and k alone, never on the thread count, so each element of C is always
/// computed by the same single-threaded gemm call and the result is the same bits at any thread count.
/// A product below ``minimumWork`` multiply-adds is one block (the pool would cost more than it
/// saves); larger ones get one block per ``minimumWork`` up to ``maximumCount``, each at least
/// ``minimumExtent`` rows (or columns) so that OpenBLAS's kernels keep their speed.
struct GemmBlocks: Equatable {
  /// The number of blocks (1: one call, no split).
  let count: Int
  /// Whether the blocks are ranges of C's rows (else of its columns).
  let alongRows: Bool
  /// Rows (or columns) per block; the last block may be shorter.
  let extent: Int
  /// Rows (or columns) in all.
  let total: Int

  /// 2²¹ multiply-adds: about 40 µs of single-threaded Float gemm on an AVX-512 core.
  static let minimumWork = 1 << 21
  /// At most 32 blocks: enough for 16 threads to balance, few enough that packing B (or A) again per
  /// block stays under 1% of the product.
  static let maximumCount = 32
  /// A block of fewer than 32 rows (or columns) leaves OpenBLAS's register tiles partly empty.
  static let minimumExtent = 32

  init(m: Int, n: Int, k: Int) {
    alongRows = m >= n
    total = alongRows ? m : n
    let work = m.multipliedReportingOverflow(by: n).partialValue.multipliedReportingOverflow(by: k)
    let wanted = work.overflow ? Self.maximumCount : work.partialValue / Self.minimumWork
    let count = Swift.max(1, Swift.min(wanted, Self.maximumCount, total / Self.minimumExtent))
    extent = (total + count - 1) / count
    self.count = (total + extent - 1) / Swift.max(extent, 1)
  }

  /// The rows (or columns) of block `index`.
  @inline(__always)
  func range(of index: Int) -> Range<Int> {
    let start = index * extent
    return start..<Swift.min(start + extent, total)
  }
}
