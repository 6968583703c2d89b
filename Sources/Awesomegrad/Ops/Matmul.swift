/// Matrix products through BLAS gemm: 2-D, batched with broadcast batch axes, and matrix–vector.
///
/// For C = op(A)·op(B) and upstream gradient G:  ∂L/∂op(A) = G·op(B)ᵀ,  ∂L/∂op(B) = op(A)ᵀ·G.
/// Both are gemm calls with transpose flags; no transpose is ever copied.
extension Tensor {
  /// The matrix product `self · other`.
  ///
  /// - `[m, k] · [k, n] → [m, n]`
  /// - `[..., m, k] · [..., k, n] → [..., m, n]`, batch axes broadcast as in numpy
  /// - a 1-D operand is a row (left) or column (right) vector whose axis is removed from the result
  ///
  /// `transposeA`/`transposeB` use the last two axes of an operand transposed, at no cost: a
  /// `Linear` layer computes `x · Wᵀ` this way with its weight stored `[out, in]`.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func matmul(
    _ other: Tensor, transposeA: Bool = false, transposeB: Bool = false,
    file: StaticString = #fileID, line: UInt = #line
  ) -> Tensor {
    if rank == 0 || other.rank == 0 {
      shapeFailure(
        "matmul", "operands must have at least one axis", shapes: [shape, other.shape], file: file, line: line
      )
    }
    // Vectors become matrices and their axis is removed from the result afterwards.
    if rank == 1 || other.rank == 1 {
      let lhs = rank == 1 ? reshaped([1, shape[0]], file: file, line: line) : self
      let rhs = other.rank == 1 ? other.reshaped([other.shape[0], 1], file: file, line: line) : other
      let product = lhs.matmul(
        rhs, transposeA: transposeA && rank > 1, transposeB: transposeB && other.rank > 1, file: file,
        line: line)
      var outShape = product.shape
      if other.rank == 1 { outShape.removeLast() }
      if rank == 1 { outShape.remove(at: outShape.count - (other.rank == 1 ? 1 : 2)) }
      return product.reshaped(outShape, file: file, line: line)
    }
    // [..., m, k] · [k, n]: the leading axes fold into m, so that a Linear layer on [B, T, C] is one
    // gemm (and its weight gradient one gemm, not B of them summed).
    if rank > 2 && other.rank == 2 && !transposeA {
      let leading = Array(shape.dropLast())
      let product = reshaped([leading.reduce(1, *), shape[rank - 1]], file: file, line: line).matmul(
        other, transposeB: transposeB, file: file, line: line)
      return product.reshaped(leading + [product.shape[1]], file: file, line: line)
    }
    let (a, b) = (storage, other.storage)
    let ka = transposeA ? a.shape[rank - 2] : a.shape[rank - 1]
    let kb = transposeB ? b.shape[other.rank - 1] : b.shape[other.rank - 2]
    if ka != kb {
      shapeFailure(
        "matmul", "inner dimensions differ (\(ka) vs \(kb))", shapes: [a.shape, b.shape], file: file,
        line: line)
    }
    guard let c = batchedProduct(a, b, transposeA, transposeB) else {
      shapeFailure(
        "matmul", "batch axes do not broadcast", shapes: [a.shape, b.shape], file: file, line: line)
    }
    // Only the gradients that someone needs are computed: the input of a first layer (data) needs
    // none, which saves one gemm per backward pass.
    let (needA, needB) = (requiresGrad, other.requiresGrad)
    return Tensor(c, op: "matmul", parents: [self, other], file: file, line: line) { g, graph in
      if let graph {
        return graph.record { g, x, _ in
          let (a, b) = (x[0], x[1])
          var (ga, gb): (Tensor?, Tensor?) = (nil, nil)
          if graph.wants(0) {
            ga = transposeA ? b.matmul(g, transposeA: transposeB, transposeB: true) : g.matmul(b, transposeB: !transposeB)
          }
          if graph.wants(1) {
            gb = transposeB ? g.matmul(a, transposeA: true, transposeB: transposeA) : a.matmul(g, transposeA: !transposeA)
          }
          return [ga?.summed(to: a.shape), gb?.summed(to: b.shape)]
        }
      }
      var ga: Storage<Scalar>?
      var gb: Storage<Scalar>?
      if needA {
        // ∂A: G·op(B)ᵀ, or its transpose op(B)·Gᵀ when A was used transposed.
        ga = transposeA ? batchedProduct(b, g, transposeB, true)! : batchedProduct(g, b, false, !transposeB)!
      }
      if needB {
        // ∂B: op(A)ᵀ·G, or its transpose Gᵀ·op(A) when B was used transposed.
        gb = transposeB ? batchedProduct(g, a, true, transposeA)! : batchedProduct(a, g, !transposeA, false)!
      }
      return [ga.map { unbroadcast($0, to: a.shape) }, gb.map { unbroadcast($0, to: b.shape) }]
    }
  }
}

/// op(x)·op(y) for storages of rank ≥ 2, looping gemm over the broadcast batch axes.
/// Returns nil when the batch axes do not broadcast. Shapes are assumed to agree on the inner size.
@inline(__always)
func batchedProduct<Scalar: TensorScalar>(
  _ x: Storage<Scalar>, _ y: Storage<Scalar>, _ transposeX: Bool, _ transposeY: Bool
) -> Storage<Scalar>? {
  let xr = x.shape.count, yr = y.shape.count
  let (xRows, xCols) = (x.shape[xr - 2], x.shape[xr - 1])
  let (yRows, yCols) = (y.shape[yr - 2], y.shape[yr - 1])
  let m = transposeX ? xCols : xRows
  let k = transposeX ? xRows : xCols
  let n = transposeY ? yRows : yCols
  let xBatch = Array(x.shape.dropLast(2)), yBatch = Array(y.shape.dropLast(2))
  guard let batch = broadcastShape(xBatch, yBatch) else { return nil }
  let out = Storage<Scalar>(uninitializedShape: batch + [m, n])
  let batchCount = elementCount(batch)
  // An empty product calls no gemm: BLAS rejects a leading dimension of 0 (ldc = n = 0).
  if out.count == 0 { return out }
  if k == 0 {
    out.buffer.base.initialize(repeating: 0, count: out.count)
    return out
  }
  if batchCount == 1 {
    BLAS.gemm(
      transposeA: transposeX, transposeB: transposeY, m: m, n: n, k: k, alpha: 1,
      a: x.buffer.base, lda: xCols, b: y.buffer.base, ldb: yCols, beta: 0, c: out.buffer.base, ldc: n)
    return out
  }
  // Matrix offsets of each operand along the broadcast batch axes (stride 0 where broadcast). The
  // products are independent: threads take whole matrices (each one's gemm then runs on that thread),
  // so every matrix is computed by the same call at any thread count.
  let xStrides = broadcastStrides(xBatch, to: batch), yStrides = broadcastStrides(yBatch, to: batch)
  let xMatrix = xRows * xCols, yMatrix = yRows * yCols
  let xp = x.buffer.base, yp = y.buffer.base, op = out.buffer.base
  parallelFor(0..<batchCount, grain: Swift.max(1, GemmBlocks.minimumWork / Swift.max(1, m * n * k))) { piece in
    for i in piece {
      var xOffset = 0, yOffset = 0, rest = i
      for axis in stride(from: batch.count - 1, through: 0, by: -1) {
        let index = rest % batch[axis]
        rest /= batch[axis]
        xOffset += index * xStrides[axis]
        yOffset += index * yStrides[axis]
      }
      BLAS.gemm(
        transposeA: transposeX, transposeB: transposeY, m: m, n: n, k: k, alpha: 1, a: xp + xOffset * xMatrix,
        lda: xCols, b: yp + yOffset * yMatrix, ldb: yCols, beta: 0, c: op + i * m * n, ldc: n)
    }
  }
  return out
}
