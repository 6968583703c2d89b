/// Attention by whole products, the path for short contexts: per matrix n (a batch and head), with
/// Q `[L, d]`, K `[S, d]`, V `[S, dv]` and scale c,
///
///     A = c·Q·Kᵀ (masked entries −∞),  P = softmax_rows(A),  O = P·V
///
/// two gemm calls forward, with the weights P `[L, S]` saved for backward, and for G = ∂L/∂O
///
///     ∂V = Pᵀ·G,  ∂P = G·Vᵀ,  ∂A = P ⊙ (∂P − rowsum(P ⊙ ∂P)),  ∂Q = c·∂A·K,  ∂K = c·∂Aᵀ·Q
///
/// four gemm calls backward. Memory is O(B·H·L·S); see ``FlashAttention`` for long contexts. The
/// matrices run in parallel (one chunk each, products serial inside); each is computed the same way
/// at every thread count.
enum AttentionTwoProducts {
  /// The forward pass: weights_n = softmax(scale·Q·Kᵀ, masked) and out_n = weights_n·V, for every n.
  static func forward<Scalar: TensorScalar>(
    _ geometry: AttentionGeometry<Scalar>, q: UnsafePointer<Scalar>, k: UnsafePointer<Scalar>,
    v: UnsafePointer<Scalar>, weights: UnsafeMutablePointer<Scalar>, out: UnsafeMutablePointer<Scalar>
  ) {
    let (l, s, heads) = (geometry.queries, geometry.keys, geometry.heads)
    parallelChunks(geometry.batch) { n in
      let o = out + geometry.output.offset(n, heads: heads)
      if s == 0 || geometry.valueDepth == 0 {
        // No keys: every row attends to nothing, so every output is 0.
        for r in 0..<l { (o + r * geometry.output.leading).update(repeating: 0, count: geometry.valueDepth) }
        if s == 0 { return }
      }
      if l == 0 { return }
      let p = weights + n * l * s
      if geometry.depth == 0 {
        p.initialize(repeating: 0, count: l * s)
      } else {
        BLAS.gemm(
          transposeA: false, transposeB: true, m: l, n: s, k: geometry.depth, alpha: geometry.scale,
          a: q + geometry.query.offset(n, heads: heads), lda: geometry.query.leading,
          b: k + geometry.key.offset(n, heads: heads), ldb: geometry.key.leading, beta: 0, c: p, ldc: s)
      }
      // The mask first, then the softmax's checks (PyTorch's order): a masked NaN score is not seen.
      AttentionRows.mask(
        p, rows: l, columns: s, ld: s, rowStart: 0, columnStart: 0, matrix: n, geometry: geometry,
        includingCausal: false)
      AttentionRows.softmax(
        p, rows: l, columns: s, ld: s, isCausal: geometry.isCausal, causalShift: geometry.causalShift)
      if geometry.valueDepth > 0 {
        BLAS.gemm(
          transposeA: false, transposeB: false, m: l, n: geometry.valueDepth, k: s, alpha: 1, a: p, lda: s,
          b: v + geometry.value.offset(n, heads: heads), ldb: geometry.value.leading, beta: 0,
          c: o, ldc: geometry.output.leading)
      }
    }
  }

  /// The backward pass (the formulas above). Writes every element of each matrix of dq, dk and dv.
  static func backward<Scalar: TensorScalar>(
    _ geometry: AttentionGeometry<Scalar>, g: UnsafePointer<Scalar>, q: UnsafePointer<Scalar>,
    k: UnsafePointer<Scalar>, v: UnsafePointer<Scalar>, weights: UnsafePointer<Scalar>,
    dq: UnsafeMutablePointer<Scalar>, dk: UnsafeMutablePointer<Scalar>, dv: UnsafeMutablePointer<Scalar>,
    recorder: AttentionWorkspace?
  ) {
    let (l, s, d, dvalue, heads) = (
      geometry.queries, geometry.keys, geometry.depth, geometry.valueDepth, geometry.heads
    )
    func zero(_ base: UnsafeMutablePointer<Scalar>, _ layout: MatrixLayout, n: Int, rows: Int, columns: Int) {
      let m = base + layout.offset(n, heads: heads)
      for r in 0..<rows { (m + r * layout.leading).update(repeating: 0, count: columns) }
    }
    let (ldq, ldk, ldv, ldo) = (
      geometry.query.leading, geometry.key.leading, geometry.value.leading, geometry.output.leading
    )
    parallelChunks(geometry.batch) { n in
      if l == 0 || s == 0 {
        zero(dq, geometry.query, n: n, rows: l, columns: d)
        zero(dk, geometry.key, n: n, rows: s, columns: d)
        zero(dv, geometry.value, n: n, rows: s, columns: dvalue)
        return
      }
      let p = weights + n * l * s
      let gn = g + geometry.output.offset(n, heads: heads)
      let (qn, kn, vn) = (
        q + geometry.query.offset(n, heads: heads), k + geometry.key.offset(n, heads: heads),
        v + geometry.value.offset(n, heads: heads)
      )
      let scratch = attentionScratch(l * s, of: Scalar.self, recorder: recorder)
      defer { scratch.deallocate() }
      // ∂V = Pᵀ·G and ∂P = G·Vᵀ.
      if dvalue > 0 {
        BLAS.gemm(
          transposeA: true, transposeB: false, m: s, n: dvalue, k: l, alpha: 1, a: p, lda: s, b: gn, ldb: ldo,
          beta: 0, c: dv + geometry.value.offset(n, heads: heads), ldc: ldv)
        BLAS.gemm(
          transposeA: false, transposeB: true, m: l, n: s, k: dvalue, alpha: 1, a: gn, lda: ldo, b: vn,
          ldb: ldv, beta: 0, c: scratch, ldc: s)
      } else {
        scratch.update(repeating: 0, count: l * s)
      }
      // ∂A = P ⊙ (∂P − rowsum(P ⊙ ∂P)), in place over ∂P.
      for r in 0..<l {
        let pr = p + r * s, dr = scratch + r * s
        var dot: Scalar = 0
        for c in 0..<s { dot += pr[c] * dr[c] }
        for c in 0..<s { dr[c] = pr[c] * (dr[c] - dot) }
      }
      // ∂Q = c·∂A·K and ∂K = c·∂Aᵀ·Q.
      if d > 0 {
        BLAS.gemm(
          transposeA: false, transposeB: false, m: l, n: d, k: s, alpha: geometry.scale, a: scratch, lda: s,
          b: kn, ldb: ldk, beta: 0, c: dq + geometry.query.offset(n, heads: heads), ldc: ldq)
        BLAS.gemm(
          transposeA: true, transposeB: false, m: s, n: d, k: l, alpha: geometry.scale, a: scratch, lda: s,
          b: qn, ldb: ldq, beta: 0, c: dk + geometry.key.offset(n, heads: heads), ldc: ldk)
      }
    }
  }
}
