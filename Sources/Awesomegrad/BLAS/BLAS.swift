import CBLAS
import Foundation

/// The Swift side of the project's one doorway to C. Every call into OpenBLAS or LAPACKE goes through
/// a function here, named after what it computes. Each is generic over ``TensorScalar`` and picks the
/// `s` or `d` routine; in specialised code the type test folds away.
enum BLAS {
  /// C ← α·op(A)·op(B) + β·C for row-major matrices, where op(X) is X or Xᵀ.
  ///
  /// - A is `m×k` after op (stored `k×m` when `transposeA`), with leading dimension `lda`.
  /// - B is `k×n` after op (stored `n×k` when `transposeB`), with leading dimension `ldb`.
  /// - C is `m×n` with leading dimension `ldc`.
  ///
  /// Transposes are gemm flags, never copies, with one exception: on OpenBLAS's AVX-512 cores, a
  /// tiny Bᵀ that its small-matrix kernels refuse (``smallProductRefusesTN(m:n:k:)``) is copied
  /// (at most ``maxCopiedTransposeCount`` scalars, on the stack when small) so that they take it.
  ///
  /// The product runs on the library's threads (``threadCount``), never on OpenBLAS's own: a large
  /// product is split into blocks of C's rows (or of its columns, when C is wider than tall), whose
  /// sizes depend on m, n and k alone (``GemmBlocks``), and each block is one single-threaded gemm
  /// call on one thread of the pool. The reduction over k is never split, so every element of C is
  /// computed by the same call at every thread count: the bits do not depend on it. Inside a
  /// parallel region the blocks run in order on the region's thread.
  @inline(__always)
  static func gemm<T: TensorScalar>(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
    alpha: T, a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
    beta: T, c: UnsafeMutablePointer<T>, ldc: Int
  ) {
    let kernel = checkedCore  // the one-time kernel check (BLASBackend.swift), before the first product
    let blocks = GemmBlocks(m: m, n: n, k: k)
    if blocks.count == 1 {
      gemmBlock(
        kernel, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a: a,
        lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
      return
    }
    parallelChunks(blocks.count) { block in
      let range = blocks.range(of: block)
      if blocks.alongRows {
        // Rows r of op(A) and of C: A is stored m×k (row r at r·lda) or, transposed, k×m (column r).
        gemmBlock(
          kernel, transposeA: transposeA, transposeB: transposeB, m: range.count, n: n, k: k,
          alpha: alpha, a: a + range.lowerBound * (transposeA ? 1 : lda), lda: lda, b: b, ldb: ldb,
          beta: beta, c: c + range.lowerBound * ldc, ldc: ldc)
      } else {
        // Columns j of op(B) and of C: B is stored k×n (column j) or, transposed, n×k (row j at j·ldb).
        gemmBlock(
          kernel, transposeA: transposeA, transposeB: transposeB, m: m, n: range.count, k: k,
          alpha: alpha, a: a, lda: lda, b: b + range.lowerBound * (transposeB ? ldb : 1), ldb: ldb,
          beta: beta, c: c + range.lowerBound, ldc: ldc)
      }
    }
  }

  /// One single-threaded product: ``gemm``'s arguments for one block of C.
  @inline(__always)
  static func gemmBlock<T: TensorScalar>(
    _ kernel: CheckedCore, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
    alpha: T, a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
    beta: T, c: UnsafeMutablePointer<T>, ldc: Int
  ) {
    if m == 1 && n > 1 && k > 0 {
      // A row vector times a matrix (every product of a decoding step): gemv. OpenBLAS's gemm packs
      // the whole matrix even for one row, and ran GPT-2 124M's products at a third of gemv's rate.
      gemmCounter?.increment()
      callGemv(
        transposed: !transposeB, rows: transposeB ? n : k, columns: transposeB ? k : n, alpha: alpha, a: b,
        lda: ldb, x: a, incx: transposeA ? lda : 1, beta: beta, y: c, incy: 1)
      return
    }
    if kernel.smallTransposedBIsSlow && transposeB && !transposeA
      && smallProductRefusesTN(m: m, n: n, k: k) && n * k <= maxCopiedTransposeCount
    {
      // A·Bᵀ with a tiny B (a small Linear layer's weight): give gemm Bᵀ as a k×n copy, so that
      // OpenBLAS's small-matrix kernel takes it (see smallProductRefusesTN).
      withUnsafeTemporaryAllocation(of: T.self, capacity: n * k) { bt in
        let bt = bt.baseAddress!
        for j in 0..<n {
          for l in 0..<k { bt[l * n + j] = b[j * ldb + l] }
        }
        callGemm(
          transposeA: false, transposeB: false, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: bt,
          ldb: n, beta: beta, c: c, ldc: ldc)
      }
      return
    }
    callGemm(
      transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b,
      ldb: ldb, beta: beta, c: c, ldc: ldc)
  }

  /// `cblas_sgemm` or `cblas_dgemm` with `gemm`'s arguments, counted by ``gemmCounter``.
  @inline(__always)
  static func callGemm<T: TensorScalar>(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
    alpha: T, a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
    beta: T, c: UnsafeMutablePointer<T>, ldc: Int
  ) {
    gemmCounter?.increment()
    let ta = transposeA ? CblasTrans : CblasNoTrans
    let tb = transposeB ? CblasTrans : CblasNoTrans
    if T.self == Float.self {
      a.withMemoryRebound(to: Float.self, capacity: 1) { a in
        b.withMemoryRebound(to: Float.self, capacity: 1) { b in
          c.withMemoryRebound(to: Float.self, capacity: 1) { c in
            cblas_sgemm(
              CblasRowMajor, ta, tb, Int32(m), Int32(n), Int32(k), Float(alpha), a, Int32(lda), b,
              Int32(ldb), Float(beta), c, Int32(ldc))
          }
        }
      }
    } else if T.self == Double.self {
      a.withMemoryRebound(to: Double.self, capacity: 1) { a in
        b.withMemoryRebound(to: Double.self, capacity: 1) { b in
          c.withMemoryRebound(to: Double.self, capacity: 1) { c in
            cblas_dgemm(
              CblasRowMajor, ta, tb, Int32(m), Int32(n), Int32(k), Double(alpha), a, Int32(lda), b,
              Int32(ldb), Double(beta), c, Int32(ldc))
          }
        }
      }
    } else {
      fatalError("BLAS.gemm supports Float and Double, not \(T.self)")
    }
  }

  /// y ← α·op(A)·x + β·y for a row-major `rows × columns` matrix A (leading dimension `lda`), where
  /// op(A) is A or, when `transposed`, Aᵀ: `cblas_sgemv` or `cblas_dgemv`.
  @inline(__always)
  static func callGemv<T: TensorScalar>(
    transposed: Bool, rows: Int, columns: Int, alpha: T, a: UnsafePointer<T>, lda: Int, x: UnsafePointer<T>,
    incx: Int, beta: T, y: UnsafeMutablePointer<T>, incy: Int
  ) {
    let ta = transposed ? CblasTrans : CblasNoTrans
    if T.self == Float.self {
      a.withMemoryRebound(to: Float.self, capacity: 1) { a in
        x.withMemoryRebound(to: Float.self, capacity: 1) { x in
          y.withMemoryRebound(to: Float.self, capacity: 1) { y in
            cblas_sgemv(
              CblasRowMajor, ta, Int32(rows), Int32(columns), Float(alpha), a, Int32(lda), x, Int32(incx),
              Float(beta), y, Int32(incy))
          }
        }
      }
    } else if T.self == Double.self {
      a.withMemoryRebound(to: Double.self, capacity: 1) { a in
        x.withMemoryRebound(to: Double.self, capacity: 1) { x in
          y.withMemoryRebound(to: Double.self, capacity: 1) { y in
            cblas_dgemv(
              CblasRowMajor, ta, Int32(rows), Int32(columns), Double(alpha), a, Int32(lda), x, Int32(incx),
              Double(beta), y, Int32(incy))
          }
        }
      }
    } else {
      fatalError("BLAS.gemv supports Float and Double, not \(T.self)")
    }
  }

  /// Whether OpenBLAS's AVX-512 small-matrix kernels refuse the row-major A·Bᵀ product of this size.
  ///
  /// Row-major C = A·Bᵀ reaches OpenBLAS as the column-major "TN" product Cᵀ = B·Aᵀ, with M = n,
  /// N = m, K = k.
  /// Its SkylakeX/Cooperlake kernels take products with M·N·K ≤ 100³ through small-matrix kernels
  /// without packing, except TN when M·N > 1200 or K < 32 (`?gemm_small_kernel_permit_skylakex.c`,
  /// 0.3.21 to 0.3.28), which go through the packing path instead: 1.7–4× slower at the moons
  /// layer sizes (100×16×2, 100×16×16, 100×1×16), measured with a C loop over cblas_dgemm.
  @inline(__always)
  static func smallProductRefusesTN(m: Int, n: Int, k: Int) -> Bool {
    m * n * k <= 1_000_000 && (m * n > 1200 || k < 32)
  }

  /// Whether ``gemm`` would copy Bᵀ for an A·Bᵀ of this size (see ``smallProductRefusesTN(m:n:k:)``).
  /// A caller that multiplies by tiles of the same B many times (the fused attention kernel's
  /// Q·Kᵀ tiles) transposes B once instead, and calls gemm with B as it is.
  @inline(__always)
  static func copiesTransposedB(m: Int, n: Int, k: Int) -> Bool {
    m > 1 && checkedCore.smallTransposedBIsSlow && smallProductRefusesTN(m: m, n: n, k: k)
      && n * k <= maxCopiedTransposeCount
  }

  /// The largest B (in scalars) that `gemm` copies transposed for the small-matrix path: 16 Ki
  /// scalars, 128 KiB in Double, so the copy stays small next to the product.
  static let maxCopiedTransposeCount = 16_384

  /// When set (by tests, with `BLAS.$gemmCounter.withValue(counter) { ... }`), counts the gemm calls
  /// of the current task. Task-local, so it is not global state and costs one lookup per call.
  @TaskLocal static var gemmCounter: CallCounter?

  /// Sets the number of threads OpenBLAS itself uses (tests of OpenBLAS's own behaviour only: the
  /// library keeps it at 1 and runs products on its own pool).
  static func setOpenBLASThreadCount(_ n: Int) { openblas_set_num_threads(Int32(n)) }
}

/// Sets the library's one thread count, which matrix products use too.
@available(*, deprecated, renamed: "setThreadCount(_:)")
public func setBLASThreadCount(_ n: Int) { setThreadCount(n) }

/// The library's one thread count, which matrix products use too.
@available(*, deprecated, renamed: "threadCount")
public var blasThreadCount: Int { threadCount }

/// A thread-safe count of calls, for tests that check how many BLAS calls an operation makes.
final class CallCounter: @unchecked Sendable {
  private let lock = NSLock()
  private var value = 0

  /// The number of calls so far.
  var count: Int { lock.withLock { value } }

  func increment() { lock.withLock { value += 1 } }
}
