import Awesomegrad

/// The keys and values of every position a model has already read, per layer, so that each new
/// token costs one position of work instead of the whole sequence again.
///
/// Each layer's keys and values are one tensor `[batch, keyValueHeads, capacity, headDimension]`,
/// allocated once, up front, for the model's whole context (the pages a sequence never reaches are
/// never touched, so they cost no memory). A forward pass over T new tokens writes them at positions
/// `count ..< count + T` of its layer, attends over the first `count + T` positions in place, through
/// the library's fused `cachedAttention(query:keyCache:valueCache:length:mask:isCausal:scale:)`
/// (no copy of the cache, no `[T, count + T]` score matrix), and the model then advances ``count``.
/// The cache is for inference: nothing it returns records a graph.
public final class KVCache {
  /// The number of sequences.
  public let batchSize: Int
  /// The most positions it holds.
  public let capacity: Int
  /// The number of layers.
  public let layers: Int
  /// Key/value heads per layer.
  public let keyValueHeads: Int
  /// The size of one head.
  public let headDimension: Int
  /// The positions already written (the same in every layer once a forward pass is over).
  public private(set) var count = 0

  /// Per layer, `[batchSize, keyValueHeads, capacity, headDimension]`; positions `0..<count` hold data.
  private let keys: [Tensor<Float>]
  private let values: [Tensor<Float>]

  /// A cache for `batchSize` sequences of at most `capacity` positions.
  public init(batchSize: Int, capacity: Int, layers: Int, keyValueHeads: Int, headDimension: Int) {
    if batchSize < 1 || capacity < 1 || layers < 1 || keyValueHeads < 1 || headDimension < 1 {
      modelArgumentFailure(
        "KVCache", "sizes must be positive, got batch \(batchSize), capacity \(capacity), layers \(layers), "
          + "heads \(keyValueHeads), head dimension \(headDimension)", file: #fileID, line: #line)
    }
    self.batchSize = batchSize
    self.capacity = capacity
    self.layers = layers
    self.keyValueHeads = keyValueHeads
    self.headDimension = headDimension
    let shape = [batchSize, keyValueHeads, capacity, headDimension]
    // Uninitialised: only positions below `count` are ever read.
    keys = (0..<layers).map { _ in Tensor(Storage(uninitializedShape: shape)) }
    values = (0..<layers).map { _ in Tensor(Storage(uninitializedShape: shape)) }
  }

  /// Causal attention of T new positions over everything cached before them and themselves.
  ///
  /// Writes `key` and `value` (`[batch, keyValueHeads, T, headDimension]`) at positions
  /// `count ..< count + T` of layer `layer`, then computes, for query head h (key/value head
  /// h / (heads / keyValueHeads), as `repeat_kv`, without repeating the cache):
  ///
  ///     out[b, h, i] = softmax_s(q[b, h, i]·k[b, h/g, s] / √d) · v[b, h/g, s],
  ///     s ≤ count + i, and keyMask[b, s] when given
  ///
  /// - Parameters:
  ///   - query: `[batch, heads, T, headDimension]`.
  ///   - keyMask: `[batch, count + T]`, false at padding (left-padded batched prompts); nil for none.
  /// - Returns: `[batch, heads, T, headDimension]`.
  func attention(
    layer: Int, query: Tensor<Float>, key: Tensor<Float>, value: Tensor<Float>, keyMask: MaskTensor?
  ) -> Tensor<Float> {
    let t = key.shape[2]
    if key.shape != [batchSize, keyValueHeads, t, headDimension] || value.shape != key.shape
      || count + t > capacity
    {
      modelArgumentFailure(
        "KVCache.attention", "keys \(key.shape) and values \(value.shape) must be [\(batchSize), "
          + "\(keyValueHeads), T, \(headDimension)] with \(count) + T ≤ \(capacity)", file: #fileID, line: #line)
    }
    let (d, start, length) = (headDimension, count, count + t)
    for (source, destination) in [(key, keys[layer]), (value, values[layer])] {
      source.storage.withUnsafeBufferPointer { new in
        destination.updateValues { cached in
          for row in 0..<(batchSize * keyValueHeads) {
            (cached.baseAddress! + (row * capacity + start) * d).update(from: new.baseAddress! + row * t * d, count: t * d)
          }
        }
      }
    }
    let mask = keyMask.map { MaskTensor($0.scalars, shape: [batchSize, 1, 1, length]) }
    return cachedAttention(
      query: query, keyCache: keys[layer], valueCache: values[layer], length: length, mask: mask, isCausal: true)
  }

  /// Marks `n` more positions as written, after every layer has stored them.
  func advance(by n: Int) { count += n }
}

/// Causal attention over a whole sequence (no cache), with grouped-query heads and an optional
/// padding mask, through the library's ``scaledDotProductAttention(query:key:value:mask:isCausal:scale:file:line:)``,
/// which records the graph that training needs.
///
///     out[b, h, i] = softmax_j(q[b, h, i]·k[b, h/g, j] / √d) · v[b, h/g, j],  j ≤ i, keyMask[b, j]
///
/// - Parameters:
///   - query: `[B, heads, T, d]`.
///   - key: `[B, keyValueHeads, T, d]`; query head h reads key/value head h / (heads / keyValueHeads),
///     as `repeat_kv` lays them out. The query is viewed as `[B, keyValueHeads, rep·T, d]` so the keys
///     are never repeated.
///   - value: as `key`.
///   - keyMask: `[B, T]`, false at padding (left padding of batched prompts); nil for none.
/// - Returns: `[B, heads, T, d]`.
func causalAttention(
  query: Tensor<Float>, key: Tensor<Float>, value: Tensor<Float>, keyMask: MaskTensor?
) -> Tensor<Float> {
  let (b, heads, t, d) = (query.shape[0], query.shape[1], query.shape[2], query.shape[3])
  let repeats = heads / key.shape[1]
  if keyMask == nil && repeats == 1 {
    return scaledDotProductAttention(query: query, key: key, value: value, isCausal: true)
  }
  let grouped = repeats == 1 ? query : query.reshaped([b, key.shape[1], repeats * t, d])
  // Row r·T + i of a group is query i: it sees keys j ≤ i (and not padding).
  let batches = keyMask == nil ? 1 : b
  var flags = [Bool](repeating: false, count: batches * repeats * t * t)
  for batch in 0..<batches {
    for r in 0..<repeats {
      for i in 0..<t {
        let row = (batch * repeats + r) * t + i
        for j in 0...i where keyMask?.scalars[batch * t + j] ?? true { flags[row * t + j] = true }
      }
    }
  }
  let mask = MaskTensor(flags, shape: [batches, 1, repeats * t, t])
  let out = scaledDotProductAttention(query: grouped, key: key, value: value, mask: mask)
  return repeats == 1 ? out : out.reshaped([b, heads, t, d])
}
