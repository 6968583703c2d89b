import Foundation

/// Fused attention in tiles (FlashAttention-2 on the CPU), the path for long contexts: no `[L, S]`
/// matrix ever exists. For one matrix n (a batch and head) with Q `[L, d]`, K `[S, d]`, V `[S, dv]`,
/// scale c, queries in tiles Qᵢ of ``Tiling/queryTile`` rows and keys in tiles Kⱼ, Vⱼ of
/// ``Tiling/keyTile`` rows:
///
/// **Forward**, per query tile, with a running maximum m, sum ℓ and output O per row:
///
///     Sᵢⱼ = c·Qᵢ·Kⱼᵀ (masked entries −∞)             one tile of scores, in cache
///     m' = max(m, rowmax Sᵢⱼ),  Pᵢⱼ = e^(Sᵢⱼ − m'),  α = e^(m − m')
///     ℓ ← α·ℓ + rowsum Pᵢⱼ,  O ← α·O + Pᵢⱼ·Vⱼ,  m ← m'
///     finally O ← O/ℓ and the row log-sum-exp Lᵢ = m + ln ℓ, the only thing saved besides O
///
/// **Backward**, with G = ∂L/∂O and D = rowsum(G ⊙ O) (= rowsum(P ⊙ ∂P)), per key tile, over the
/// query tiles in order:
///
///     Pᵢⱼ = e^(c·Qᵢ·Kⱼᵀ − Lᵢ)   (recomputed: masked entries 0)
///     ∂Vⱼ += Pᵢⱼᵀ·Gᵢ,  ∂Pᵢⱼ = Gᵢ·Vⱼᵀ,  ∂Sᵢⱼ = Pᵢⱼ ⊙ (∂Pᵢⱼ − Dᵢ)
///     ∂Qᵢ += c·∂Sᵢⱼ·Kⱼ,  ∂Kⱼ += c·∂Sᵢⱼᵀ·Qᵢ
///
/// A tile that the causal rule or the mask hides completely is skipped (never computed); a tile it
/// hides in part gets −∞ where hidden. Every product is one ``BLAS/gemm`` call on the tile (serial:
/// it runs inside a chunk of the pool). The row loops are ``AttentionRows``.
///
/// **Threads and bits.** The forward runs one chunk per (matrix, query tile), each writing only its
/// own rows: any thread count gives the same bits. The backward runs one chunk per (matrix, key
/// group): key tile j belongs to group j mod ``backwardGroups(batch:keyTiles:)``, a number fixed by
/// the problem's size alone; a chunk owns ∂K and ∂V of its key tiles (summed over query tiles in
/// order) and writes its part of ∂Q to a partial buffer, and the partials are added in group order.
/// So the bits never depend on the thread count.
///
/// **Rules** (the unfused path's, PyTorch's): masked entries count as −∞ before any check; a row
/// with nothing allowed, or whose allowed scores are all −∞, gives 0 and zero gradients; a NaN among
/// a row's allowed scores makes the row NaN. A key or value at a position the causal rule or the mask
/// hides entirely from a tile is never read by it (so a NaN there does not spread, as in PyTorch's
/// fused kernel).
enum FlashAttention {
  /// Tile sizes: rows of queries and of keys per tile.
  struct Tiling: Equatable, Sendable {
    let queryTile: Int
    let keyTile: Int

    /// The tiles used for every call (measured on `bench attention-1024`; see DESIGN.md).
    static let standard = Tiling(queryTile: 128, keyTile: 128)

    /// ``standard``, or the tiling that tests bind with `$forced.withValue(tiling) { ... }` to put
    /// many tile edges into small problems.
    static var current: Tiling { forced ?? standard }

    @TaskLocal static var forced: Tiling?
  }

  /// The tiling and the mask's block table of one call, shared by its forward and backward passes.
  struct Plan {
    let tiling: Tiling
    let queryTiles: Int
    let keyTiles: Int
    /// ``AttentionMask/blocks(queries:keys:batch:queryTile:keyTile:)`` when there is a mask.
    let maskBlocks: [AttentionBlock]?

    /// The plan of `geometry` with tiles of at most `tiling`'s sizes (smaller for short sequences).
    init<Scalar>(_ geometry: AttentionGeometry<Scalar>, tiling: Tiling = .current) {
      let tiling = Tiling(
        queryTile: Swift.max(1, Swift.min(tiling.queryTile, geometry.queries)),
        keyTile: Swift.max(1, Swift.min(tiling.keyTile, geometry.keys)))
      self.tiling = tiling
      queryTiles = (geometry.queries + tiling.queryTile - 1) / tiling.queryTile
      keyTiles = (geometry.keys + tiling.keyTile - 1) / tiling.keyTile
      maskBlocks = geometry.mask?.blocks(
        queries: geometry.queries, keys: geometry.keys, batch: geometry.batch, queryTile: tiling.queryTile,
        keyTile: tiling.keyTile)
    }

    /// What the causal rule and the mask let through in tile (qi, kj) of matrix n.
    @inline(__always)
    func block<Scalar>(_ geometry: AttentionGeometry<Scalar>, matrix n: Int, queryTile qi: Int, keyTile kj: Int)
      -> AttentionBlock
    {
      let rows = (qi * tiling.queryTile)..<Swift.min((qi + 1) * tiling.queryTile, geometry.queries)
      let columns = (kj * tiling.keyTile)..<Swift.min((kj + 1) * tiling.keyTile, geometry.keys)
      let causal = geometry.causalBlock(rows: rows, columns: columns)
      guard let maskBlocks, causal != .none else { return causal }
      let matrix = geometry.mask!.isShared ? 0 : n
      return causal.combined(with: maskBlocks[(matrix * queryTiles + qi) * keyTiles + kj])
    }
  }

  /// The number of key groups the backward splits each matrix into: 1 when there are at least
  /// ``minimumBackwardChunks`` matrices, else enough for that many chunks (at most one per key tile).
  /// It depends on the sizes only, never on the thread count.
  static func backwardGroups(batch: Int, keyTiles: Int) -> Int {
    guard batch < minimumBackwardChunks else { return 1 }
    return Swift.max(1, Swift.min(keyTiles, (minimumBackwardChunks + batch - 1) / Swift.max(batch, 1)))
  }

  /// Chunks the backward aims for, so that a few matrices still keep several threads busy.
  static let minimumBackwardChunks = 8

  /// The scratch one forward chunk allocates, in scalars: a tile of scores and three row vectors.
  static func forwardScratch(_ tiling: Tiling) -> Int { tiling.queryTile * tiling.keyTile + 3 * tiling.queryTile }

  /// The forward pass: out and the row log-sum-exp `logSumExp` `[batch, L]` (0 for a row with nothing
  /// to attend to). Requires L, S, d, dv > 0.
  static func forward<Scalar: TensorScalar>(
    _ geometry: AttentionGeometry<Scalar>, plan: Plan, q: UnsafePointer<Scalar>, k: UnsafePointer<Scalar>,
    v: UnsafePointer<Scalar>, out: UnsafeMutablePointer<Scalar>, logSumExp: UnsafeMutablePointer<Scalar>,
    recorder: AttentionWorkspace?
  ) {
    let (tileRows, tileColumns) = (plan.tiling.queryTile, plan.tiling.keyTile)
    let queryTiles = plan.queryTiles
    let keysTransposed = transposedOnce(k, geometry.key, width: geometry.depth, geometry, plan: plan, recorder: recorder)
    defer { keysTransposed?.deallocate() }
    parallelChunks(geometry.batch * queryTiles) { chunk in
      // The last query tiles see the most keys under the causal rule: hand them out first.
      let n = chunk / queryTiles
      let qi = queryTiles - 1 - chunk % queryTiles
      let scratch = attentionScratch(forwardScratch(plan.tiling), of: Scalar.self, recorder: recorder)
      defer { scratch.deallocate() }
      forwardTile(
        geometry, plan: plan, matrix: n, queryTile: qi, q: q, k: k, keysTransposed: keysTransposed, v: v, out: out,
        logSumExp: logSumExp + n * geometry.queries, recorder: recorder, scores: scratch,
        rowMax: scratch + tileRows * tileColumns, rowSum: scratch + tileRows * tileColumns + tileRows,
        rescale: scratch + tileRows * tileColumns + 2 * tileRows)
    }
  }

  /// One query tile of one matrix: the online softmax over its key tiles, then O/ℓ and ln ℓ + m.
  @inline(__always)
  static func forwardTile<Scalar: TensorScalar>(
    _ geometry: AttentionGeometry<Scalar>, plan: Plan, matrix n: Int, queryTile qi: Int,
    q: UnsafePointer<Scalar>, k: UnsafePointer<Scalar>, keysTransposed: UnsafeMutablePointer<Scalar>?,
    v: UnsafePointer<Scalar>, out: UnsafeMutablePointer<Scalar>,
    logSumExp: UnsafeMutablePointer<Scalar>, recorder: AttentionWorkspace?, scores: UnsafeMutablePointer<Scalar>,
    rowMax: UnsafeMutablePointer<Scalar>, rowSum: UnsafeMutablePointer<Scalar>, rescale: UnsafeMutablePointer<Scalar>
  ) {
    let heads = geometry.heads
    let (ldq, ldk, ldv, ldo) = (
      geometry.query.leading, geometry.key.leading, geometry.value.leading, geometry.output.leading
    )
    let rowStart = qi * plan.tiling.queryTile
    let rows = Swift.min(plan.tiling.queryTile, geometry.queries - rowStart)
    let qn = q + geometry.query.offset(n, heads: heads) + rowStart * ldq
    let kn = k + geometry.key.offset(n, heads: heads)
    let vn = v + geometry.value.offset(n, heads: heads)
    let on = out + geometry.output.offset(n, heads: heads) + rowStart * ldo
    let dv = geometry.valueDepth
    rowMax.update(repeating: -.infinity, count: rows)
    rowSum.update(repeating: 0, count: rows)
    var started = false
    // Under the causal rule the tile's last row sees keys up to rowStart + rows − 1 + shift.
    let visibleKeys =
      geometry.isCausal
      ? Swift.min(Swift.max(rowStart + rows + geometry.causalShift, 0), geometry.keys) : geometry.keys
    let keyTiles = (visibleKeys + plan.tiling.keyTile - 1) / plan.tiling.keyTile
    for kj in 0..<keyTiles {
      let block = plan.block(geometry, matrix: n, queryTile: qi, keyTile: kj)
      if block == .none { continue }
      recorder?.recordTile()
      let columnStart = kj * plan.tiling.keyTile
      let columns = Swift.min(plan.tiling.keyTile, geometry.keys - columnStart)
      tileProductWithTransposed(
        m: rows, n: columns, k: geometry.depth, alpha: geometry.scale, a: qn, lda: ldq, b: kn + columnStart * ldk,
        ldb: ldk, transposed: transposedTile(keysTransposed, matrix: n, keyTile: kj, width: geometry.depth, plan: plan),
        ldTransposed: plan.tiling.keyTile, c: scores, ldc: columns)
      if block == .some {
        AttentionRows.mask(
          scores, rows: rows, columns: columns, ld: columns, rowStart: rowStart, columnStart: columnStart,
          matrix: n, geometry: geometry, includingCausal: true)
      }
      AttentionRows.softmaxUpdate(
        scores, rows: rows, columns: columns, ld: columns, rowMax: rowMax, rowSum: rowSum, rescale: rescale)
      if started {
        for r in 0..<rows where rescale[r] != 1 {
          let (o, alpha) = (on + r * ldo, rescale[r])
          for x in 0..<dv { o[x] *= alpha }
        }
      }
      BLAS.gemm(
        transposeA: false, transposeB: false, m: rows, n: dv, k: columns, alpha: 1, a: scores, lda: columns,
        b: vn + columnStart * ldv, ldb: ldv, beta: started ? 1 : 0, c: on, ldc: ldo)
      started = true
    }
    for r in 0..<rows {
      let o = on + r * ldo
      let (m, total) = (rowMax[r], rowSum[r])
      if !started || m == -.infinity {
        // Nothing to attend to (or only −∞ scores): 0, or NaN when a NaN score was allowed.
        o.update(repeating: total.isNaN ? .nan : 0, count: dv)
        logSumExp[rowStart + r] = total.isNaN ? .nan : 0
        continue
      }
      let inverse = 1 / total
      for x in 0..<dv { o[x] *= inverse }
      logSumExp[rowStart + r] = m + Scalar.log(total)
    }
  }

  /// The scratch one backward chunk allocates, in scalars: two tiles (P and ∂P).
  static func backwardScratch(_ tiling: Tiling) -> Int { 2 * tiling.queryTile * tiling.keyTile }

  /// The backward pass: writes every element of each matrix of dq, dk and dv. `out` and `logSumExp`
  /// are the forward's. Requires L, S, d, dv > 0 and one query head per key/value head.
  static func backward<Scalar: TensorScalar>(
    _ geometry: AttentionGeometry<Scalar>, plan: Plan, g: UnsafePointer<Scalar>, q: UnsafePointer<Scalar>,
    k: UnsafePointer<Scalar>, v: UnsafePointer<Scalar>, out: UnsafePointer<Scalar>,
    logSumExp: UnsafePointer<Scalar>, dq: UnsafeMutablePointer<Scalar>, dk: UnsafeMutablePointer<Scalar>,
    dv: UnsafeMutablePointer<Scalar>, recorder: AttentionWorkspace?
  ) {
    let (l, d, heads, batch) = (geometry.queries, geometry.depth, geometry.heads, geometry.batch)
    let ldo = geometry.output.leading
    // D = rowsum(G ⊙ O), one value per row of every matrix.
    let rowDot = attentionScratch(batch * l, of: Scalar.self, recorder: recorder)
    defer { rowDot.deallocate() }
    parallelChunks(batch) { n in
      let (gn, on) = (g + geometry.output.offset(n, heads: heads), out + geometry.output.offset(n, heads: heads))
      for r in 0..<l {
        var dot: Scalar = 0
        for x in 0..<geometry.valueDepth { dot += gn[r * ldo + x] * on[r * ldo + x] }
        rowDot[n * l + r] = dot
      }
    }
    let keysTransposed = transposedOnce(k, geometry.key, width: d, geometry, plan: plan, recorder: recorder)
    let valuesTransposed = transposedOnce(
      v, geometry.value, width: geometry.valueDepth, geometry, plan: plan, recorder: recorder)
    defer {
      keysTransposed?.deallocate()
      valuesTransposed?.deallocate()
    }
    let groups = backwardGroups(batch: batch, keyTiles: plan.keyTiles)
    // With one group a chunk owns its matrix's ∂Q; with more, each writes a partial [L, d].
    let partials: UnsafeMutablePointer<Scalar>? =
      groups > 1 ? attentionScratch(batch * groups * l * d, of: Scalar.self, recorder: recorder) : nil
    defer { partials?.deallocate() }
    parallelChunks(batch * groups) { chunk in
      let (n, group) = (chunk / groups, chunk % groups)
      let scratch = attentionScratch(backwardScratch(plan.tiling), of: Scalar.self, recorder: recorder)
      defer { scratch.deallocate() }
      let (dqTarget, lddq) =
        partials.map { ($0 + chunk * l * d, d) }
        ?? (dq + geometry.query.offset(n, heads: heads), geometry.query.leading)
      for r in 0..<l { (dqTarget + r * lddq).update(repeating: 0, count: d) }
      for kj in stride(from: group, to: plan.keyTiles, by: groups) {
        backwardKeyTile(
          geometry, plan: plan, matrix: n, keyTile: kj, g: g, q: q, k: k, v: v,
          keysTransposed: transposedTile(keysTransposed, matrix: n, keyTile: kj, width: d, plan: plan),
          valuesTransposed: transposedTile(
            valuesTransposed, matrix: n, keyTile: kj, width: geometry.valueDepth, plan: plan),
          logSumExp: logSumExp + n * l, rowDot: rowDot + n * l, dq: dqTarget, lddq: lddq, dk: dk, dv: dv,
          recorder: recorder, p: scratch, dp: scratch + plan.tiling.queryTile * plan.tiling.keyTile)
      }
    }
    guard let partials else { return }
    // ∂Q = Σ partials, in group order.
    parallelChunks(batch) { n in
      let target = dq + geometry.query.offset(n, heads: heads)
      let first = partials + n * groups * l * d
      for r in 0..<l {
        let row = target + r * geometry.query.leading
        row.update(from: first + r * d, count: d)
        for group in 1..<groups {
          let part = first + group * l * d + r * d
          for x in 0..<d { row[x] += part[x] }
        }
      }
    }
  }

  /// One key tile of one matrix: zeroes its ∂K and ∂V rows, then adds every query tile's share in
  /// order, and adds this key tile's share of ∂Q into `dq` (rows `lddq` apart).
  @inline(__always)
  static func backwardKeyTile<Scalar: TensorScalar>(
    _ geometry: AttentionGeometry<Scalar>, plan: Plan, matrix n: Int, keyTile kj: Int,
    g: UnsafePointer<Scalar>, q: UnsafePointer<Scalar>, k: UnsafePointer<Scalar>, v: UnsafePointer<Scalar>,
    keysTransposed: UnsafeMutablePointer<Scalar>?, valuesTransposed: UnsafeMutablePointer<Scalar>?,
    logSumExp: UnsafePointer<Scalar>, rowDot: UnsafePointer<Scalar>, dq: UnsafeMutablePointer<Scalar>,
    lddq: Int, dk: UnsafeMutablePointer<Scalar>, dv: UnsafeMutablePointer<Scalar>, recorder: AttentionWorkspace?,
    p: UnsafeMutablePointer<Scalar>, dp: UnsafeMutablePointer<Scalar>
  ) {
    let heads = geometry.heads
    let (ldq, ldk, ldv, ldo) = (
      geometry.query.leading, geometry.key.leading, geometry.value.leading, geometry.output.leading
    )
    let (d, dvalue) = (geometry.depth, geometry.valueDepth)
    let columnStart = kj * plan.tiling.keyTile
    let columns = Swift.min(plan.tiling.keyTile, geometry.keys - columnStart)
    let kj0 = k + geometry.key.offset(n, heads: heads) + columnStart * ldk
    let vj0 = v + geometry.value.offset(n, heads: heads) + columnStart * ldv
    let dkj = dk + geometry.key.offset(n, heads: heads) + columnStart * ldk
    let dvj = dv + geometry.value.offset(n, heads: heads) + columnStart * ldv
    for c in 0..<columns {
      (dkj + c * ldk).update(repeating: 0, count: d)
      (dvj + c * ldv).update(repeating: 0, count: dvalue)
    }
    let qn = q + geometry.query.offset(n, heads: heads)
    let gn = g + geometry.output.offset(n, heads: heads)
    // Under the causal rule, the first row that sees key columnStart is columnStart − shift.
    let firstRow = geometry.isCausal ? Swift.max(columnStart - geometry.causalShift, 0) : 0
    for qi in Swift.min(firstRow / plan.tiling.queryTile, plan.queryTiles)..<plan.queryTiles {
      let block = plan.block(geometry, matrix: n, queryTile: qi, keyTile: kj)
      if block == .none { continue }
      recorder?.recordTile()
      let rowStart = qi * plan.tiling.queryTile
      let rows = Swift.min(plan.tiling.queryTile, geometry.queries - rowStart)
      let (qi0, gi0) = (qn + rowStart * ldq, gn + rowStart * ldo)
      // P = e^(c·Qᵢ·Kⱼᵀ − L), masked entries 0.
      tileProductWithTransposed(
        m: rows, n: columns, k: d, alpha: geometry.scale, a: qi0, lda: ldq, b: kj0, ldb: ldk,
        transposed: keysTransposed, ldTransposed: plan.tiling.keyTile, c: p, ldc: columns)
      if block == .some {
        AttentionRows.mask(
          p, rows: rows, columns: columns, ld: columns, rowStart: rowStart, columnStart: columnStart, matrix: n,
          geometry: geometry, includingCausal: true)
      }
      AttentionRows.probabilities(p, rows: rows, columns: columns, ld: columns, logSumExp: logSumExp + rowStart)
      // ∂Vⱼ += Pᵀ·Gᵢ, ∂P = Gᵢ·Vⱼᵀ, ∂S = P ⊙ (∂P − D).
      BLAS.gemm(
        transposeA: true, transposeB: false, m: columns, n: dvalue, k: rows, alpha: 1, a: p, lda: columns,
        b: gi0, ldb: ldo, beta: 1, c: dvj, ldc: ldv)
      tileProductWithTransposed(
        m: rows, n: columns, k: dvalue, alpha: 1, a: gi0, lda: ldo, b: vj0, ldb: ldv,
        transposed: valuesTransposed, ldTransposed: plan.tiling.keyTile, c: dp, ldc: columns)
      AttentionRows.scoreGradient(p, dp, rows: rows, columns: columns, ld: columns, rowDot: rowDot + rowStart)
      // ∂Qᵢ += c·∂S·Kⱼ, ∂Kⱼ += c·∂Sᵀ·Qᵢ.
      BLAS.gemm(
        transposeA: false, transposeB: false, m: rows, n: d, k: columns, alpha: geometry.scale, a: dp,
        lda: columns, b: kj0, ldb: ldk, beta: 1, c: dq + rowStart * lddq, ldc: lddq)
      BLAS.gemm(
        transposeA: true, transposeB: false, m: columns, n: d, k: rows, alpha: geometry.scale, a: dp,
        lda: columns, b: qi0, ldb: ldq, beta: 1, c: dkj, ldc: ldk)
    }
  }

  /// Kᵀ (or Vᵀ) of every matrix, tile by tile of keys, `[batch, keyTiles, width, keyTile]`, when the
  /// tile products A·Bᵀ would otherwise copy each tile of B transposed for OpenBLAS's small-matrix
  /// kernels (``BLAS/copiesTransposedB(m:n:k:)``, its AVX-512 cores): every query tile reuses a key
  /// tile, so one copy per matrix replaces one per tile (charlm-1024 spent 6% of its step in those
  /// copies). Tiles stay `keyTile` wide, as the per-tile copy was: one `[width, S]` matrix would put
  /// the rows S scalars apart, 4 KiB at S = 1024, and the small kernel's reads of B then collide in
  /// the cache (its share of the step rose by 6 points). Nil when the products take B as it is, and
  /// for one query row (decoding), whose products are matrix-vector. O(S·width) per matrix.
  static func transposedOnce<Scalar: TensorScalar>(
    _ x: UnsafePointer<Scalar>, _ layout: MatrixLayout, width: Int, _ geometry: AttentionGeometry<Scalar>,
    plan: Plan, recorder: AttentionWorkspace?
  ) -> UnsafeMutablePointer<Scalar>? {
    let (s, tile) = (geometry.keys, plan.tiling.keyTile)
    guard BLAS.copiesTransposedB(m: Swift.min(plan.tiling.queryTile, geometry.queries), n: Swift.min(tile, s), k: width)
    else { return nil }
    let perMatrix = plan.keyTiles * width * tile
    let transposed = attentionScratch(geometry.batch * perMatrix, of: Scalar.self, recorder: recorder)
    parallelChunks(geometry.batch) { n in
      let source = x + layout.offset(n, heads: geometry.heads)
      for kj in 0..<plan.keyTiles {
        let target = transposed + n * perMatrix + kj * width * tile
        let columnStart = kj * tile
        // Blocks of 16 keys: the writes of a block stay in a few cache lines per row of the tile.
        for j0 in stride(from: 0, to: Swift.min(tile, s - columnStart), by: 16) {
          let j1 = Swift.min(j0 + 16, tile, s - columnStart)
          for c in 0..<width {
            for j in j0..<j1 { target[c * tile + j] = source[(columnStart + j) * layout.leading + c] }
          }
        }
      }
    }
    return transposed
  }

  /// Where key tile `kj` of matrix `n` starts in ``transposedOnce(_:_:width:_:plan:recorder:)``'s copy.
  @inline(__always)
  static func transposedTile<Scalar>(
    _ transposed: UnsafeMutablePointer<Scalar>?, matrix n: Int, keyTile kj: Int, width: Int, plan: Plan
  ) -> UnsafeMutablePointer<Scalar>? {
    transposed.map { $0 + (n * plan.keyTiles + kj) * width * plan.tiling.keyTile }
  }

  /// C = α·A·Bᵀ for one tile: through `transposed` (Bᵀ, rows `ldTransposed` apart) when the matrix
  /// was transposed once, else through gemm's own transposition flag.
  @inline(__always)
  static func tileProductWithTransposed<Scalar: TensorScalar>(
    m: Int, n: Int, k: Int, alpha: Scalar, a: UnsafePointer<Scalar>, lda: Int, b: UnsafePointer<Scalar>,
    ldb: Int, transposed: UnsafeMutablePointer<Scalar>?, ldTransposed: Int, c: UnsafeMutablePointer<Scalar>,
    ldc: Int
  ) {
    if let transposed {
      BLAS.gemm(
        transposeA: false, transposeB: false, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: transposed,
        ldb: ldTransposed, beta: 0, c: c, ldc: ldc)
    } else {
      BLAS.gemm(
        transposeA: false, transposeB: true, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
        beta: 0, c: c, ldc: ldc)
    }
  }
}
