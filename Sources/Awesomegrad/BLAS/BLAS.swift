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
  /// Transposes are gemm flags, never copies.
  @inline(__always)
  static func gemm<T: TensorScalar>(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
    alpha: T, a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
    beta: T, c: UnsafeMutablePointer<T>, ldc: Int
  ) {
    _ = checkedCore  // the one-time kernel check (BLASBackend.swift), before the first product
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

  /// When set (by tests, with `BLAS.$gemmCounter.withValue(counter) { ... }`), counts the gemm calls
  /// of the current task. Task-local, so it is not global state and costs one lookup per call.
  @TaskLocal static var gemmCounter: CallCounter?

  /// Sets the number of threads OpenBLAS uses for later calls (the `OPENBLAS_NUM_THREADS` setting).
  static func setThreadCount(_ n: Int) { openblas_set_num_threads(Int32(n)) }

  /// The number of threads OpenBLAS uses.
  static var threadCount: Int { Int(openblas_get_num_threads()) }
}

/// Sets how many threads the BLAS library uses (OpenBLAS). Training on small models is often fastest
/// with 1; large matrix products scale with cores.
public func setBLASThreadCount(_ n: Int) { BLAS.setThreadCount(n) }

/// How many threads the BLAS library uses.
public var blasThreadCount: Int { BLAS.threadCount }

/// A thread-safe count of calls, for tests that check how many BLAS calls an operation makes.
final class CallCounter: @unchecked Sendable {
  private let lock = NSLock()
  private var value = 0

  /// The number of calls so far.
  var count: Int { lock.withLock { value } }

  func increment() { lock.withLock { value += 1 } }
}
