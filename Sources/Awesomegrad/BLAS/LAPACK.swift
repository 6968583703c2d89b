import CBLAS

/// Why a linear-algebra routine could not produce an answer.
public enum LinearAlgebraError: Error, Equatable, CustomStringConvertible {
  /// The matrix does not have full column rank (LAPACK found an exactly zero diagonal element of R),
  /// so the least-squares solution is not unique.
  case rankDeficient
  /// LAPACK rejected an argument (its `info` code); a bug in the caller of LAPACK.
  case invalidArgument(Int)

  /// What LAPACK reported, and what to do.
  public var description: String {
    switch self {
    case .rankDeficient:
      "least squares: the matrix does not have full column rank, so the solution is not unique"
    case .invalidArgument(let i): "LAPACK rejected argument \(i)"
    }
  }
}

extension BLAS {
  /// Solves min ‖A·X − B‖₂ for X by QR factorisation (LAPACK `?gels`), in place.
  ///
  /// - `a`: `m×n` row-major, m ≥ n, full column rank; overwritten by the factorisation.
  /// - `b`: `m×nrhs` row-major; its first n rows are overwritten by X.
  static func leastSquares<T: TensorScalar>(
    m: Int, n: Int, nrhs: Int, a: UnsafeMutablePointer<T>, b: UnsafeMutablePointer<T>
  ) throws(LinearAlgebraError) {
    _ = checkedCore  // the one-time kernel check (BLASBackend.swift)
    var info: Int32 = 0
    let trans = CChar(UInt8(ascii: "N"))
    if T.self == Float.self {
      a.withMemoryRebound(to: Float.self, capacity: m * n) { a in
        b.withMemoryRebound(to: Float.self, capacity: m * nrhs) { b in
          info = Int32(
            LAPACKE_sgels(
              LAPACK_ROW_MAJOR, trans, .init(m), .init(n), .init(nrhs), a, .init(n), b, .init(nrhs)))
        }
      }
    } else if T.self == Double.self {
      a.withMemoryRebound(to: Double.self, capacity: m * n) { a in
        b.withMemoryRebound(to: Double.self, capacity: m * nrhs) { b in
          info = Int32(
            LAPACKE_dgels(
              LAPACK_ROW_MAJOR, trans, .init(m), .init(n), .init(nrhs), a, .init(n), b, .init(nrhs)))
        }
      }
    } else {
      fatalError("BLAS.leastSquares supports Float and Double, not \(T.self)")
    }
    if info > 0 { throw .rankDeficient }
    if info < 0 { throw .invalidArgument(Int(-info)) }
  }
}

/// The least-squares solution X of A·X ≈ B: the X minimising ‖A·X − B‖₂, by QR (LAPACK `?gels`).
///
/// - Parameters:
///   - a: `[m, n]` with m ≥ n and full column rank.
///   - b: `[m]` or `[m, k]`.
///   - file: the caller's file (`#fileID`), named in error messages.
///   - line: the caller's line.
/// - Returns: `[n]` or `[n, k]`, matching `b`. Not differentiable (the result is a leaf).
/// - Throws: ``LinearAlgebraError/rankDeficient`` when A's columns are linearly dependent.
public func leastSquares<Scalar: TensorScalar>(
  _ a: Tensor<Scalar>, _ b: Tensor<Scalar>, file: StaticString = #fileID, line: UInt = #line
) throws(LinearAlgebraError) -> Tensor<Scalar> {
  guard a.rank == 2, a.shape[0] >= a.shape[1], b.rank == 1 || b.rank == 2, b.shape[0] == a.shape[0] else {
    shapeFailure(
      "leastSquares", "needs A [m, n] with m ≥ n and B [m] or [m, k]", shapes: [a.shape, b.shape], file: file,
      line: line)
  }
  let (m, n) = (a.shape[0], a.shape[1])
  let nrhs = b.rank == 1 ? 1 : b.shape[1]
  // gels overwrites both operands: work on copies.
  let factor = a.storage.copy(), solution = b.storage.copy()
  try BLAS.leastSquares(m: m, n: n, nrhs: nrhs, a: factor.buffer.base, b: solution.buffer.base)
  let x = Storage<Scalar>(uninitializedShape: b.rank == 1 ? [n] : [n, nrhs])
  x.buffer.base.initialize(from: solution.buffer.base, count: n * nrhs)
  return Tensor(x)
}
