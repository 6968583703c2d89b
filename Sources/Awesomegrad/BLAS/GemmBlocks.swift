/// How `BLAS.gemm` splits a product C = op(A)·op(B) (C is m×n, the sum runs over k) across threads:
/// into `count` blocks of C's rows, or of its columns when C is wider than tall, never along k.
///
/// The blocks depend on m, n and k alone, never on the thread count, so each element of C is always
/// computed by the same single-threaded gemm call and the result is the same bits at any thread count.
/// A product below ``minimumWork`` multiply-adds (``minimumVectorWork`` for a row vector times a
/// matrix) is one block (the pool would cost more than it saves); larger ones get one block per
/// that much work up to ``maximumCount``, each at least ``minimumExtent`` rows (or columns) so that
/// repacking the other operand per block stays cheap.
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
  /// 2¹⁸ multiply-adds for a row vector times a matrix (m = 1, run by gemv): such a product reads
  /// each weight once and is bound by memory, so a block of 1 MiB of Float weights (about 60 µs at
  /// 17 GB/s) is already worth a thread, and a decoding step's products (GPT-2 124M's are 0.6 to
  /// 2.4 million multiply-adds) use every thread.
  static let minimumVectorWork = 1 << 18
  /// At most 32 blocks: enough for 16 threads to balance, few enough that packing B (or A) again per
  /// block stays under 1% of the product.
  static let maximumCount = 32
  /// A block of rows packs all of B again (a block of columns, all of A): OpenBLAS cannot share one
  /// packed copy between separate calls, so a block of e rows does e multiply-adds per element it
  /// repacks. 32 made the fashion MLP's `[64, 784]·[784, 256]` 6 blocks, each packing the input again
  /// (packing rose from 4.0% to 8.7% of the epoch's profile); 128 left products such as a weight
  /// gradient `[128, 2048]·[2048, 128]` in one block, so the parallel share of a 1-thread step fell
  /// from 0.995 to 0.94 (charlm) and from 0.99 to 0.96 (cnn-fashion) (`bench W --threads 1`). 64 keeps
  /// both shares at 0.99 with a third fewer blocks than 32.
  static let minimumExtent = 64
  /// A row vector times a matrix runs as gemv, which packs nothing: 32 columns per block suffice.
  static let minimumVectorExtent = 32

  init(m: Int, n: Int, k: Int) {
    alongRows = m >= n
    total = alongRows ? m : n
    let work = m.multipliedReportingOverflow(by: n).partialValue.multipliedReportingOverflow(by: k)
    let unit = m == 1 ? Self.minimumVectorWork : Self.minimumWork
    let wanted = work.overflow ? Self.maximumCount : work.partialValue / unit
    let smallest = m == 1 ? Self.minimumVectorExtent : Self.minimumExtent
    let count = Swift.max(1, Swift.min(wanted, Self.maximumCount, total / smallest))
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
