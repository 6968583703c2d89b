import Foundation

/// Scaled dot-product attention as one primitive: two gemm calls per (batch, head) forward, four
/// backward, and a row softmax in between. The attention weights `[…, L, S]` are the only saved
/// intermediate, so memory is O(B·H·L·S); q, k and v are read in place by gemm, never copied.
///
/// For one (batch, head) with Q `[L, d]`, K `[S, d]`, V `[S, dv]` and scale c:
///
///     A = c·Q·Kᵀ (masked entries −∞),  P = softmax_rows(A),  O = P·V
///
/// and for an upstream gradient G = ∂L/∂O:
///
///     ∂V = Pᵀ·G,  ∂P = G·Vᵀ,  ∂A = P ⊙ (∂P − rowsum(P ⊙ ∂P)),  ∂Q = c·∂A·K,  ∂K = c·∂Aᵀ·Q
///
/// The softmax subtracts each row's maximum before exponentiating, so no score overflows. A row
/// whose every key is masked attends to nothing: its output and gradients are 0, as in PyTorch's CPU
/// kernel. The mask applies before any score is looked at: a masked score, even NaN, never reaches
/// its row (PyTorch's `masked_fill(−∞)` formulation; its SDPA with a boolean `attn_mask` adds −∞
/// instead, and NaN + (−∞) stays NaN there).

/// Attention of `query` over `key` and `value`: PyTorch's
/// `F.scaled_dot_product_attention(query, key, value, attn_mask=mask, is_causal=isCausal, scale=scale)`.
///
/// - Parameters:
///   - query: `[…, L, d]`.
///   - key: `[…, S, d]`, the same leading axes.
///   - value: `[…, S, dv]`, the same leading axes.
///   - mask: booleans that broadcast to `[…, L, S]`; true where a query may attend to a key.
///   - isCausal: query l attends only to keys s ≤ l (the mask `tril(ones(L, S))`, aligned at the top
///     left as in PyTorch); combines with `mask`.
///   - scale: the factor on the scores; nil for 1/√d.
///   - file: the caller's file (`#fileID`), named in error messages and by anomaly mode.
///   - line: the caller's line.
/// - Returns: `[…, L, dv]`.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func scaledDotProductAttention<Scalar: TensorScalar>(
  query: Tensor<Scalar>, key: Tensor<Scalar>, value: Tensor<Scalar>, mask: MaskTensor? = nil,
  isCausal: Bool = false, scale: Double? = nil, file: StaticString = #fileID, line: UInt = #line
) -> Tensor<Scalar> {
  let shapes = [query.shape, key.shape, value.shape]
  let rank = query.rank
  if rank < 2 || key.rank != rank || value.rank != rank
    || query.shape.dropLast(2) != key.shape.dropLast(2) || key.shape.dropLast(2) != value.shape.dropLast(2)
  {
    shapeFailure(
      "scaledDotProductAttention",
      "query, key and value must be [..., L, d], [..., S, d], [..., S, dv] "
        + "with the same leading axes", shapes: shapes, file: file, line: line)
  }
  let (l, d) = (query.shape[rank - 2], query.shape[rank - 1])
  let (s, dv) = (value.shape[rank - 2], value.shape[rank - 1])
  if key.shape[rank - 1] != d || key.shape[rank - 2] != s {
    shapeFailure(
      "scaledDotProductAttention", "key must be [..., S, d]: d as in the query, S as in the value",
      shapes: shapes, file: file, line: line)
  }
  let leading = Array(query.shape.dropLast(2))
  let batch = elementCount(leading)
  let flags = mask.map {
    attentionMask($0, leading: leading, queries: l, keys: s, file: file, line: line)
  }
  let geometry = AttentionGeometry(
    batch: batch, queries: l, keys: s, depth: d, valueDepth: dv, heads: 1,
    query: .init(base: 0, outer: l * d, inner: 0, leading: d),
    key: .init(base: 0, outer: s * d, inner: 0, leading: d),
    value: .init(base: 0, outer: s * dv, inner: 0, leading: dv),
    output: .init(base: 0, outer: l * dv, inner: 0, leading: dv),
    scale: Scalar(scale ?? 1 / Double(d).squareRoot()), isCausal: isCausal, mask: flags)
  let (q, k, v) = (query.storage, key.storage, value.storage)
  let out = Storage<Scalar>(uninitializedShape: leading + [l, dv])
  let weights = Storage<Scalar>(uninitializedShape: [batch, l, s])
  attentionForward(
    geometry, q: q.buffer.base, k: k.buffer.base, v: v.buffer.base, weights: weights.buffer.base,
    out: out.buffer.base)
  return Tensor(out, op: "scaledDotProductAttention", parents: [query, key, value], file: file, line: line) { g in
    let dq = Storage<Scalar>(uninitializedShape: q.shape)
    let dk = Storage<Scalar>(uninitializedShape: k.shape)
    let dvalue = Storage<Scalar>(uninitializedShape: v.shape)
    attentionBackward(
      geometry, g: g.buffer.base, q: q.buffer.base, k: k.buffer.base, v: v.buffer.base,
      weights: weights.buffer.base, dq: dq.buffer.base, dk: dk.buffer.base, dv: dvalue.buffer.base)
    return [dq, dk, dvalue]
  }
}

/// Multi-head attention straight from a fused q|k|v projection, as in nanoGPT's
/// `CausalSelfAttention`: equal to splitting `qkv` into q, k, v, viewing each as
/// `[B, T, heads, C/heads]`, moving the heads before the time axis, calling
/// ``scaledDotProductAttention(query:key:value:mask:isCausal:scale:file:line:)``, and joining the
/// heads back into `[B, T, C]`. Here gemm reads every head where it lies (leading dimension 3C) and
/// writes its output in place (leading dimension C), so the split, the two transposes and the join
/// cost no copies.
///
/// - Parameters:
///   - qkv: `[B, T, 3·C]`: the queries in columns `0..<C`, the keys in `C..<2C`, the values in
///     `2C..<3C`; head h owns columns `h·C/heads ..< (h+1)·C/heads` of each.
///   - heads: divides C.
///   - mask: booleans that broadcast to `[B, heads, T, T]`; true where a query may attend to a key.
///   - isCausal: each position attends to itself and the past only.
///   - file: the caller's file (`#fileID`), named in error messages and by anomaly mode.
///   - line: the caller's line.
/// - Returns: `[B, T, C]`.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func multiHeadAttention<Scalar: TensorScalar>(
  qkv: Tensor<Scalar>, heads: Int, mask: MaskTensor? = nil, isCausal: Bool = false,
  file: StaticString = #fileID, line: UInt = #line
) -> Tensor<Scalar> {
  if qkv.rank != 3 || heads < 1 || qkv.shape[2] % (3 * heads) != 0 {
    shapeFailure(
      "multiHeadAttention", "qkv must be [B, T, 3·C] with C divisible by heads (\(heads))",
      shapes: [qkv.shape], file: file, line: line)
  }
  let (b, t, width) = (qkv.shape[0], qkv.shape[1], qkv.shape[2])
  let c = width / 3, d = c / heads
  let flags = mask.map {
    attentionMask($0, leading: [b, heads], queries: t, keys: t, file: file, line: line)
  }
  // Head n = batch·heads + h starts at row batch·T, column h·d (+ C for keys, + 2C for values).
  let geometry = AttentionGeometry(
    batch: b * heads, queries: t, keys: t, depth: d, valueDepth: d, heads: heads,
    query: .init(base: 0, outer: t * width, inner: d, leading: width),
    key: .init(base: c, outer: t * width, inner: d, leading: width),
    value: .init(base: 2 * c, outer: t * width, inner: d, leading: width),
    output: .init(base: 0, outer: t * c, inner: d, leading: c),
    scale: Scalar(1 / Double(d).squareRoot()), isCausal: isCausal, mask: flags)
  let input = qkv.storage
  let out = Storage<Scalar>(uninitializedShape: [b, t, c])
  let weights = Storage<Scalar>(uninitializedShape: [b * heads, t, t])
  let p = input.buffer.base
  attentionForward(geometry, q: p, k: p, v: p, weights: weights.buffer.base, out: out.buffer.base)
  return Tensor(out, op: "multiHeadAttention", parents: [qkv], file: file, line: line) { g in
    // The three gradients tile the [B, T, 3C] gradient exactly, so every element is written.
    let grad = Storage<Scalar>(uninitializedShape: [b, t, width])
    let p = input.buffer.base, dp = grad.buffer.base
    attentionBackward(
      geometry, g: g.buffer.base, q: p, k: p, v: p, weights: weights.buffer.base, dq: dp, dk: dp, dv: dp)
    return [grad]
  }
}

/// `mask` broadcast to `leading + [queries, keys]`, kept as one `[queries, keys]` matrix when it has
/// no leading axes of its own (the usual case: one mask for every batch and head).
func attentionMask(
  _ mask: MaskTensor, leading: [Int], queries: Int, keys: Int, file: StaticString, line: UInt
) -> AttentionMask {
  let full = leading + [queries, keys]
  guard broadcastShape(mask.shape, full) == full else {
    shapeFailure(
      "scaledDotProductAttention", "the mask must broadcast to [..., L, S]", shapes: [mask.shape, full],
      file: file, line: line)
  }
  if mask.shape.dropLast(2).allSatisfy({ $0 == 1 }) {
    let matrix = MaskTensor(mask.scalars, shape: Array(mask.shape.suffix(2)))
    return AttentionMask(flags: matrix.broadcast(to: [queries, keys]).scalars, isShared: true)
  }
  return AttentionMask(flags: mask.broadcast(to: full).scalars, isShared: false)
}

/// The mask of an attention call, row-major over `[queries, keys]` (shared by every batch and head)
/// or over `[batch, queries, keys]`.
struct AttentionMask {
  let flags: [Bool]
  let isShared: Bool
}

/// Where the matrices of an attention call lie in their buffers: matrix n (of `batch`) starts at
/// `base + (n / heads)·outer + (n % heads)·inner`, with `leading` elements between rows.
struct MatrixLayout {
  let base: Int
  let outer: Int
  let inner: Int
  let leading: Int

  @inline(__always) func offset(_ n: Int, heads: Int) -> Int {
    base + (n / heads) * outer + (n % heads) * inner
  }
}

/// The sizes, layouts and options of one attention call.
struct AttentionGeometry<Scalar: TensorScalar> {
  let batch: Int
  let queries: Int
  let keys: Int
  let depth: Int
  let valueDepth: Int
  let heads: Int
  let query: MatrixLayout
  let key: MatrixLayout
  let value: MatrixLayout
  let output: MatrixLayout
  let scale: Scalar
  let isCausal: Bool
  let mask: AttentionMask?
}

/// The forward pass: for each matrix n, weights_n = softmax(scale·Q·Kᵀ, masked) and out_n = weights_n·V.
@inline(__always)
func attentionForward<Scalar: TensorScalar>(
  _ geometry: AttentionGeometry<Scalar>, q: UnsafePointer<Scalar>, k: UnsafePointer<Scalar>,
  v: UnsafePointer<Scalar>, weights: UnsafeMutablePointer<Scalar>, out: UnsafeMutablePointer<Scalar>
) {
  let (l, s, heads) = (geometry.queries, geometry.keys, geometry.heads)
  for n in 0..<geometry.batch {
    let p = weights + n * l * s
    if l == 0 || s == 0 { break }
    if geometry.depth == 0 {
      p.initialize(repeating: 0, count: l * s)
    } else {
      BLAS.gemm(
        transposeA: false, transposeB: true, m: l, n: s, k: geometry.depth, alpha: geometry.scale,
        a: q + geometry.query.offset(n, heads: heads), lda: geometry.query.leading,
        b: k + geometry.key.offset(n, heads: heads), ldb: geometry.key.leading, beta: 0, c: p, ldc: s)
    }
    if let mask = geometry.mask {
      mask.flags.withUnsafeBufferPointer { flags in
        let rows = flags.baseAddress! + (mask.isShared ? 0 : n * l * s)
        softmaxRows(p, rows: l, columns: s, isCausal: geometry.isCausal, allowed: rows)
      }
    } else {
      softmaxRows(p, rows: l, columns: s, isCausal: geometry.isCausal, allowed: nil)
    }
    if geometry.valueDepth > 0 {
      BLAS.gemm(
        transposeA: false, transposeB: false, m: l, n: geometry.valueDepth, k: s, alpha: 1, a: p, lda: s,
        b: v + geometry.value.offset(n, heads: heads), ldb: geometry.value.leading, beta: 0,
        c: out + geometry.output.offset(n, heads: heads), ldc: geometry.output.leading)
    }
  }
  if geometry.keys == 0 {
    // No keys: every row attends to nothing, so every output is 0.
    for n in 0..<geometry.batch {
      let o = out + geometry.output.offset(n, heads: heads)
      for r in 0..<l { (o + r * geometry.output.leading).update(repeating: 0, count: geometry.valueDepth) }
    }
  }
}

/// Replaces each row of scores by its softmax over the allowed columns (column c ≤ row when causal,
/// and `allowed[row·columns + c]` when given), 0 elsewhere; a row with nothing allowed becomes 0.
@inline(__always)
func softmaxRows<Scalar: TensorScalar>(
  _ p: UnsafeMutablePointer<Scalar>, rows: Int, columns: Int, isCausal: Bool, allowed: UnsafePointer<Bool>?
) {
  for r in 0..<rows {
    let row = p + r * columns
    let limit = isCausal ? Swift.min(r + 1, columns) : columns
    var maximum = -Scalar.infinity
    if let allowed {
      let flags = allowed + r * columns
      for c in 0..<limit where flags[c] && row[c] > maximum { maximum = row[c] }
    } else {
      for c in 0..<limit where row[c] > maximum { maximum = row[c] }
    }
    if maximum == -.infinity {
      // Nothing to attend to, or every allowed score −∞: the weights are 0. An allowed NaN: NaN.
      // (A NaN among finite scores makes the row NaN below, through exp and the total.)
      // Mask first (issue 19): only allowed columns are scanned, so a NaN score in a masked-out
      // column never poisons its row, as with PyTorch's masked_fill(−∞) before the softmax.
      var anyNaN = false
      if let allowed {
        let flags = allowed + r * columns
        for c in 0..<limit where flags[c] && row[c].isNaN { anyNaN = true }
      } else {
        for c in 0..<limit where row[c].isNaN { anyNaN = true }
      }
      row.update(repeating: anyNaN ? .nan : 0, count: columns)
      continue
    }
    var total: Scalar = 0
    if let allowed {
      let flags = allowed + r * columns
      for c in 0..<limit {
        let e = flags[c] ? Scalar.exp(row[c] - maximum) : 0
        row[c] = e
        total += e
      }
    } else {
      for c in 0..<limit {
        let e = Scalar.exp(row[c] - maximum)
        row[c] = e
        total += e
      }
    }
    let inverse = 1 / total
    for c in 0..<limit { row[c] *= inverse }
    if limit < columns { (row + limit).update(repeating: 0, count: columns - limit) }
  }
}

/// The backward pass (see the formulas at the top of this file). Writes every element of each
/// matrix of dq, dk and dv.
@inline(__always)
func attentionBackward<Scalar: TensorScalar>(
  _ geometry: AttentionGeometry<Scalar>, g: UnsafePointer<Scalar>, q: UnsafePointer<Scalar>,
  k: UnsafePointer<Scalar>, v: UnsafePointer<Scalar>, weights: UnsafePointer<Scalar>,
  dq: UnsafeMutablePointer<Scalar>, dk: UnsafeMutablePointer<Scalar>, dv: UnsafeMutablePointer<Scalar>
) {
  let (l, s, d, dvalue, heads) = (
    geometry.queries, geometry.keys, geometry.depth, geometry.valueDepth, geometry.heads
  )
  let scratch = UnsafeMutablePointer<Scalar>.allocate(capacity: Swift.max(l * s, 1))
  defer { scratch.deallocate() }
  func zero(_ base: UnsafeMutablePointer<Scalar>, _ layout: MatrixLayout, n: Int, rows: Int, columns: Int) {
    let m = base + layout.offset(n, heads: heads)
    for r in 0..<rows { (m + r * layout.leading).update(repeating: 0, count: columns) }
  }
  for n in 0..<geometry.batch {
    let p = weights + n * l * s
    let gn = g + geometry.output.offset(n, heads: heads)
    let (qn, kn, vn) = (
      q + geometry.query.offset(n, heads: heads), k + geometry.key.offset(n, heads: heads),
      v + geometry.value.offset(n, heads: heads)
    )
    let (ldq, ldk, ldv, ldo) = (
      geometry.query.leading, geometry.key.leading, geometry.value.leading, geometry.output.leading
    )
    if l == 0 || s == 0 {
      zero(dq, geometry.query, n: n, rows: l, columns: d)
      zero(dk, geometry.key, n: n, rows: s, columns: d)
      zero(dv, geometry.value, n: n, rows: s, columns: dvalue)
      continue
    }
    // ∂V = Pᵀ·G and ∂P = G·Vᵀ.
    if dvalue > 0 {
      BLAS.gemm(
        transposeA: true, transposeB: false, m: s, n: dvalue, k: l, alpha: 1, a: p, lda: s, b: gn, ldb: ldo,
        beta: 0, c: dv + geometry.value.offset(n, heads: heads), ldc: ldv)
      BLAS.gemm(
        transposeA: false, transposeB: true, m: l, n: s, k: dvalue, alpha: 1, a: gn, lda: ldo, b: vn,
        ldb: ldv,
        beta: 0, c: scratch, ldc: s)
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
