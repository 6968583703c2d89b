import Awesomegrad

/// The keys and values of every position a model has already read, per layer, so that each new
/// token costs one position of work instead of the whole sequence again.
///
/// Each layer's keys and values are one buffer `[batch, keyValueHeads, capacity, headDimension]`
/// allocated up front (pages the sequence never reaches are never touched). A forward pass over T
/// new tokens writes them at positions `count ..< count + T` of every layer and then advances
/// ``count``. The cache is for inference: the tensors it hands out are constants.
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

  private let keys: [UnsafeMutablePointer<Float>]
  private let values: [UnsafeMutablePointer<Float>]

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
    let size = batchSize * keyValueHeads * capacity * headDimension
    keys = (0..<layers).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: size) }
    values = (0..<layers).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: size) }
  }

  deinit {
    for p in keys { p.deallocate() }
    for p in values { p.deallocate() }
  }

  /// Writes `key` and `value` (`[batch, keyValueHeads, T, headDimension]`, the new positions) into
  /// layer `layer` after the ``count`` cached positions, and returns the keys and values of all
  /// `count + T` positions. Before anything is cached the new tensors are returned as they are.
  func update(layer: Int, key: Tensor<Float>, value: Tensor<Float>) -> (key: Tensor<Float>, value: Tensor<Float>) {
    let t = key.shape[2]
    if key.shape != [batchSize, keyValueHeads, t, headDimension] || value.shape != key.shape
      || count + t > capacity
    {
      modelArgumentFailure(
        "KVCache.update", "keys \(key.shape) and values \(value.shape) must be [\(batchSize), "
          + "\(keyValueHeads), T, \(headDimension)] with \(count) + T ≤ \(capacity)", file: #fileID, line: #line)
    }
    let d = headDimension
    let (start, total) = (count, count + t)
    for (source, destination) in [(key, keys[layer]), (value, values[layer])] {
      source.storage.withUnsafeBufferPointer { new in
        for row in 0..<(batchSize * keyValueHeads) {
          (destination + (row * capacity + start) * d).update(from: new.baseAddress! + row * t * d, count: t * d)
        }
      }
    }
    if start == 0 { return (key, value) }
    return (gathered(keys[layer], positions: total), gathered(values[layer], positions: total))
  }

  /// Marks `n` more positions as written, after every layer has stored them.
  func advance(by n: Int) { count += n }

  /// The first `positions` positions of a layer's buffer as a tensor `[batch, heads, positions, d]`.
  private func gathered(_ buffer: UnsafeMutablePointer<Float>, positions: Int) -> Tensor<Float> {
    let d = headDimension
    let shape = [batchSize, keyValueHeads, positions, d]
    return Tensor(
      Storage(shape: shape) { out in
        for row in 0..<(batchSize * keyValueHeads) {
          (out.baseAddress! + row * positions * d).update(from: buffer + row * capacity * d, count: positions * d)
        }
      })
  }
}

/// Causal attention of new queries over cached and new keys, with grouped-query heads and an
/// optional padding mask, through the library's ``scaledDotProductAttention(query:key:value:mask:isCausal:scale:file:line:)``.
///
/// - Parameters:
///   - query: `[B, heads, T, d]`, the T new positions, which come after `offset` earlier ones.
///   - key: `[B, keyValueHeads, offset + T, d]`; query head h reads key/value head
///     h / (heads / keyValueHeads), as `repeat_kv` lays them out. The query is viewed as
///     `[B, keyValueHeads, rep·T, d]` so the keys are never repeated.
///   - value: as `key`.
///   - offset: the positions before the new ones.
///   - keyMask: `[B, offset + T]`, false at padding (left padding of batched prompts); nil for none.
/// - Returns: `[B, heads, T, d]`.
func causalAttention(
  query: Tensor<Float>, key: Tensor<Float>, value: Tensor<Float>, offset: Int, keyMask: MaskTensor?
) -> Tensor<Float> {
  let (b, heads, t, d) = (query.shape[0], query.shape[1], query.shape[2], query.shape[3])
  let (keyValueHeads, s) = (key.shape[1], key.shape[2])
  let repeats = heads / keyValueHeads
  let grouped = repeats == 1 ? query : query.reshaped([b, keyValueHeads, repeats * t, d])
  if keyMask == nil && (t == 1 || (offset == 0 && repeats == 1)) {
    // One new query sees every key; a plain causal square is the library's isCausal.
    let out = scaledDotProductAttention(query: grouped, key: key, value: value, isCausal: t > 1)
    return repeats == 1 ? out : out.reshaped([b, heads, t, d])
  }
  // Row r·T + i of a group is query i, at position offset + i: it sees keys j ≤ offset + i.
  var flags = [Bool](repeating: false, count: (keyMask == nil ? 1 : b) * repeats * t * s)
  for batch in 0..<(keyMask == nil ? 1 : b) {
    for r in 0..<repeats {
      for i in 0..<t {
        let row = (batch * repeats + r) * t + i
        for j in 0...(offset + i) where keyMask?.scalars[batch * s + j] ?? true { flags[row * s + j] = true }
      }
    }
  }
  let mask = MaskTensor(flags, shape: [keyMask == nil ? 1 : b, 1, repeats * t, s])
  let out = scaledDotProductAttention(query: grouped, key: key, value: value, mask: mask)
  return repeats == 1 ? out : out.reshaped([b, heads, t, d])
}
