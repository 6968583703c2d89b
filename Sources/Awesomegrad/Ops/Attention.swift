import Foundation

/// Scaled dot-product attention as one primitive, by one of two kernels (``AttentionKernel``):
///
/// - short contexts: two whole products per (batch, head) forward and four backward, with the
///   attention weights `[…, L, S]` saved in between (``AttentionTwoProducts``);
/// - long contexts: the fused, tiled kernel (``FlashAttention``), which keeps one tile of scores in
///   cache, saves only the output and one log-sum-exp per row, recomputes the weights tile by tile in
///   backward, and skips the tiles that the causal rule or the mask hides. Memory is O(L) per head.
///
/// For one (batch, head) with Q `[L, d]`, K `[S, d]`, V `[S, dv]` and scale c:
///
///     A = c·Q·Kᵀ (masked entries −∞),  P = softmax_rows(A),  O = P·V
///
/// and for an upstream gradient G = ∂L/∂O:
///
///     ∂V = Pᵀ·G,  ∂P = G·Vᵀ,  ∂A = P ⊙ (∂P − rowsum(P ⊙ ∂P)),  ∂Q = c·∂A·K,  ∂K = c·∂Aᵀ·Q
///
/// Both kernels follow PyTorch's rules: each row's maximum is subtracted before exponentiating, so no
/// score overflows; a row whose every key is masked (or whose allowed scores are all −∞) attends to
/// nothing: its output and gradients are 0, as in PyTorch's CPU kernel; a NaN among a row's allowed
/// scores makes its output NaN. The mask applies before any score is looked at: a masked score, even
/// NaN, never reaches its row (PyTorch's `masked_fill(−∞)` formulation; its SDPA with a boolean
/// `attn_mask` adds −∞ instead, and NaN + (−∞) stays NaN there). Both kernels run the (batch, head)
/// pairs in parallel and give the same bits at every thread count.

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
  let gradients = attend(geometry, q: q, k: k, v: v, out: out)
  let scaleValue = Scalar(scale ?? 1 / Double(d).squareRoot())
  return Tensor(out, op: "scaledDotProductAttention", parents: [query, key, value], file: file, line: line) {
    g, graph in
    if let graph {
      // Through the two-product definition (the fused kernel has no second derivative).
      return graph.recordThrough { p in
        attentionByProducts(p[0], p[1], p[2], mask: mask, isCausal: isCausal, scale: scaleValue)
      }
    }
    let dq = Storage<Scalar>(uninitializedShape: q.shape)
    let dk = Storage<Scalar>(uninitializedShape: k.shape)
    let dvalue = Storage<Scalar>(uninitializedShape: v.shape)
    gradients(g.buffer.base, dq.buffer.base, dk.buffer.base, dvalue.buffer.base)
    return [dq, dk, dvalue]
  }
}

/// Multi-head attention straight from a fused q|k|v projection, as in nanoGPT's
/// `CausalSelfAttention`: equal to splitting `qkv` into q, k, v, viewing each as
/// `[B, T, heads, C/heads]`, moving the heads before the time axis, calling
/// ``scaledDotProductAttention(query:key:value:mask:isCausal:scale:file:line:)``, and joining the
/// heads back into `[B, T, C]`. Here the kernels read every head where it lies (leading dimension
/// 3C) and write its output in place (leading dimension C), so the split, the two transposes and the
/// join cost no copies.
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
  let gradients = attend(geometry, q: input, k: input, v: input, out: out)
  return Tensor(out, op: "multiHeadAttention", parents: [qkv], file: file, line: line) { g, graph in
    if let graph {
      // Split into heads [B, H, T, d], attend by the two products, merge back to [B, T, C].
      return graph.recordThrough { p in
        let heads = (0..<3).map { part in
          p[0].sliced(axis: 2, start: part * c, end: (part + 1) * c).reshaped([b, t, heads, d]).permuted([0, 2, 1, 3])
        }
        let out = attentionByProducts(
          heads[0], heads[1], heads[2], mask: mask, isCausal: isCausal, scale: Scalar(1 / Double(d).squareRoot()))
        return out.permuted([0, 2, 1, 3]).reshaped([b, t, c])
      }
    }
    // The three gradients tile the [B, T, 3C] gradient exactly, so every element is written.
    let grad = Storage<Scalar>(uninitializedShape: [b, t, width])
    let dp = grad.buffer.base
    gradients(g.buffer.base, dp, dp, dp)
    return [grad]
  }
}

/// Attention of new queries over a key/value cache, for generation: the n queries are the last n of
/// the cache's first `length` positions, and each attends to the cached positions up to its own
/// (with `isCausal`), through the fused kernel, so no `[n, length]` matrix is formed. One new token
/// (n = 1) is one row of scores per head, one tile of keys at a time.
///
/// Query head h reads key/value head h / (Hq / Hkv), as Llama's grouped-query attention after
/// `repeat_kv`, without copying the cache. The result records no graph: this is for inference.
///
///     out[b, h, i] = softmax_s(scale·q[b, h, i]·keyCache[b, h/g, s]) · valueCache[b, h/g, s],
///     s < length, and s ≤ length − n + i when causal
///
/// - Parameters:
///   - query: `[B, Hq, n, d]`, the new positions.
///   - keyCache: `[B, Hkv, capacity, d]`, Hkv dividing Hq; positions `0..<length` hold keys.
///   - valueCache: `[B, Hkv, capacity, dv]`; positions `0..<length` hold values.
///   - length: the positions in use, n ≤ length ≤ capacity (the new keys and values already written).
///   - mask: booleans that broadcast to `[B, Hq, n, length]`; true where a query may attend to a
///     position (left padding of batched prompts: false at the padding).
///   - isCausal: query i sees positions ≤ length − n + i; irrelevant for n = 1.
///   - scale: the factor on the scores; nil for 1/√d.
///   - file: the caller's file (`#fileID`), named in error messages.
///   - line: the caller's line.
/// - Returns: `[B, Hq, n, dv]`.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func cachedAttention<Scalar: TensorScalar>(
  query: Tensor<Scalar>, keyCache: Tensor<Scalar>, valueCache: Tensor<Scalar>, length: Int,
  mask: MaskTensor? = nil, isCausal: Bool = true, scale: Double? = nil, file: StaticString = #fileID,
  line: UInt = #line
) -> Tensor<Scalar> {
  let shapes = [query.shape, keyCache.shape, valueCache.shape]
  guard query.rank == 4, keyCache.rank == 4, valueCache.rank == 4 else {
    shapeFailure(
      "cachedAttention", "query, keyCache and valueCache must be [B, Hq, n, d], [B, Hkv, capacity, d], "
        + "[B, Hkv, capacity, dv]", shapes: shapes, file: file, line: line)
  }
  let (b, hq, n, d) = (query.shape[0], query.shape[1], query.shape[2], query.shape[3])
  let (hkv, capacity, dv) = (valueCache.shape[1], valueCache.shape[2], valueCache.shape[3])
  if keyCache.shape != [b, hkv, capacity, d] || valueCache.shape[0] != b || hkv < 1 || hq % hkv != 0 {
    shapeFailure(
      "cachedAttention", "the caches must be [B, Hkv, capacity, d] and [B, Hkv, capacity, dv], with Hkv dividing Hq",
      shapes: shapes, file: file, line: line)
  }
  if length < n || length > capacity {
    argumentFailure(
      "cachedAttention", "length must be in n...capacity (\(n)...\(capacity)), got \(length)", file: file, line: line)
  }
  let flags = mask.map {
    attentionMask($0, leading: [b, hq], queries: n, keys: length, file: file, line: line)
  }
  let groups = hq / hkv
  var geometry = AttentionGeometry(
    batch: b * hq, queries: n, keys: length, depth: d, valueDepth: dv, heads: hq,
    query: .init(base: 0, outer: hq * n * d, inner: n * d, leading: d),
    key: .init(base: 0, outer: hkv * capacity * d, inner: capacity * d, leading: d, groups: groups),
    value: .init(base: 0, outer: hkv * capacity * dv, inner: capacity * dv, leading: dv, groups: groups),
    output: .init(base: 0, outer: hq * n * dv, inner: n * dv, leading: dv),
    scale: Scalar(scale ?? 1 / Double(d).squareRoot()), isCausal: isCausal, mask: flags)
  geometry.causalShift = length - n
  let out = Storage<Scalar>(uninitializedShape: [b, hq, n, dv])
  let (q, k, v) = (query.storage, keyCache.storage, valueCache.storage)
  if AttentionKernel.fusedRuns(geometry) {
    let logSumExp = attentionScratch(b * hq * n, of: Scalar.self, recorder: AttentionWorkspace.recorder)
    defer { logSumExp.deallocate() }
    FlashAttention.forward(
      geometry, plan: FlashAttention.Plan(geometry), q: q.buffer.base, k: k.buffer.base, v: v.buffer.base,
      out: out.buffer.base, logSumExp: logSumExp, recorder: AttentionWorkspace.recorder)
  } else {
    // An empty size (no positions, d or dv of 0): the unfused kernel's edge rules.
    let weights = attentionScratch(b * hq * n * length, of: Scalar.self, recorder: nil)
    defer { weights.deallocate() }
    AttentionTwoProducts.forward(
      geometry, q: q.buffer.base, k: k.buffer.base, v: v.buffer.base, weights: weights, out: out.buffer.base)
  }
  return Tensor(out)
}

/// The kernels that run attention (PyTorch's `torch.nn.attention.SDPBackend`). By default each call
/// takes the faster one for its size: ``fused`` from 192 keys on under the causal rule and from 512
/// keys on without it, ``twoProducts`` below (the crossovers measured with `bench
/// attention-crossover`); ``withAttentionKernel(_:_:)`` chooses one.
public enum AttentionKernel: Sendable, CaseIterable {
  /// Whole products per (batch, head), the `[…, L, S]` weights saved for backward: fastest for short
  /// contexts, memory O(L·S).
  case twoProducts
  /// The fused, tiled kernel (FlashAttention-2): only the output and a row log-sum-exp saved, tiles
  /// the causal rule or the mask hides skipped: fastest for long contexts, memory O(L).
  case fused

  /// The kernel bound by ``withAttentionKernel(_:_:)``, if any.
  @TaskLocal static var forced: AttentionKernel?

  /// The fused kernel runs from this many keys on under the causal rule, which lets it skip half the
  /// tiles, and from ``fusedFromKeys`` without it (the crossovers measured with `bench
  /// attention-crossover`: see DESIGN.md).
  static let fusedFromKeysCausal = 192
  static let fusedFromKeys = 512

  /// The kernel for `geometry`: the bound one, else the fused kernel from the crossover on. Empty
  /// sizes (no queries, keys, or depth) always take ``twoProducts``, the kernel that handles them.
  static func choose<Scalar>(for geometry: AttentionGeometry<Scalar>) -> AttentionKernel {
    guard fusedRuns(geometry) else { return .twoProducts }
    if let forced { return forced }
    return geometry.keys >= (geometry.isCausal ? fusedFromKeysCausal : fusedFromKeys) ? .fused : .twoProducts
  }

  /// Whether the fused kernel can run `geometry`: every size positive.
  static func fusedRuns<Scalar>(_ geometry: AttentionGeometry<Scalar>) -> Bool {
    geometry.queries > 0 && geometry.keys > 0 && geometry.depth > 0 && geometry.valueDepth > 0
  }
}

/// Runs `body` with every attention call in it (``scaledDotProductAttention(query:key:value:mask:isCausal:scale:file:line:)``,
/// ``multiHeadAttention(qkv:heads:mask:isCausal:file:line:)``, and their backward passes) on `kernel`,
/// whatever the size: PyTorch's `with sdpa_kernel(backend):`. The binding is task-local, so it
/// covers this task and the tasks it starts, not other threads.
///
/// Both kernels give the same values up to rounding; use it to trade speed for memory (the fused
/// kernel at a mid-size context) or to compare them.
public func withAttentionKernel<Result>(_ kernel: AttentionKernel, _ body: () throws -> Result) rethrows -> Result {
  try AttentionKernel.$forced.withValue(kernel, operation: body)
}

/// Runs attention's forward pass into `out` by the kernel ``AttentionKernel`` chooses, and returns its
/// backward: `(g, dq, dk, dv)` writes the gradients for the upstream gradient g, every element of
/// each matrix of dq, dk and dv. It keeps what the path saves (the weights, or the row log-sum-exp
/// and `out`) and the inputs' storages.
@inline(__always)
func attend<Scalar: TensorScalar>(
  _ geometry: AttentionGeometry<Scalar>, q: Storage<Scalar>, k: Storage<Scalar>, v: Storage<Scalar>,
  out: Storage<Scalar>
) -> (
  UnsafePointer<Scalar>, UnsafeMutablePointer<Scalar>, UnsafeMutablePointer<Scalar>, UnsafeMutablePointer<Scalar>
) -> Void {
  let recorder = AttentionWorkspace.recorder
  let (l, s, batch) = (geometry.queries, geometry.keys, geometry.batch)
  switch AttentionKernel.choose(for: geometry) {
  case .twoProducts:
    let weights = Storage<Scalar>(uninitializedShape: [batch, l, s])
    recorder?.record(bytes: weights.count * MemoryLayout<Scalar>.stride)
    AttentionTwoProducts.forward(
      geometry, q: q.buffer.base, k: k.buffer.base, v: v.buffer.base, weights: weights.buffer.base,
      out: out.buffer.base)
    return { g, dq, dk, dv in
      AttentionTwoProducts.backward(
        geometry, g: g, q: q.buffer.base, k: k.buffer.base, v: v.buffer.base, weights: weights.buffer.base,
        dq: dq, dk: dk, dv: dv, recorder: recorder)
    }
  case .fused:
    let plan = FlashAttention.Plan(geometry)
    let logSumExp = Storage<Scalar>(uninitializedShape: [batch, l])
    recorder?.record(bytes: logSumExp.count * MemoryLayout<Scalar>.stride)
    FlashAttention.forward(
      geometry, plan: plan, q: q.buffer.base, k: k.buffer.base, v: v.buffer.base, out: out.buffer.base,
      logSumExp: logSumExp.buffer.base, recorder: recorder)
    return { g, dq, dk, dv in
      FlashAttention.backward(
        geometry, plan: plan, g: g, q: q.buffer.base, k: k.buffer.base, v: v.buffer.base, out: out.buffer.base,
        logSumExp: logSumExp.buffer.base, dq: dq, dk: dk, dv: dv, recorder: recorder)
    }
  }
}

/// softmax(q·kᵀ·scale, masked)·v with differentiable ops: attention's definition, through which its
/// gradients are recorded under `createGraph`. `mask` is true where a query may attend to a key;
/// `isCausal` hides key j from query i for j > i.
func attentionByProducts<Scalar: TensorScalar>(
  _ q: Tensor<Scalar>, _ k: Tensor<Scalar>, _ v: Tensor<Scalar>, mask: MaskTensor?, isCausal: Bool, scale: Scalar
) -> Tensor<Scalar> {
  let (l, s) = (q.shape[q.rank - 2], k.shape[k.rank - 2])
  var scores = q.matmul(k, transposeB: true) * scale
  if let mask {
    scores = scores.maskedFill(MaskTensor(mask.scalars.map { !$0 }, shape: mask.shape), with: -.infinity)
  }
  if isCausal {
    let hidden = (0..<(l * s)).map { $0 % s > $0 / s }
    scores = scores.maskedFill(MaskTensor(hidden, shape: [l, s]), with: -.infinity)
  }
  return scores.softmax(axis: -1).matmul(v)
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
