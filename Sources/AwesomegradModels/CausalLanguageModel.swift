import Awesomegrad

/// A pretrained decoder-only language model in the Hugging Face layout: ``GPT2LanguageModel`` or
/// ``LlamaLanguageModel``. It is a `Module<Float>` whose parameters carry the Hugging Face names
/// (`transformer.h.0.attn.c_attn.weight`, `model.layers.0.self_attn.q_proj.weight`), so it trains
/// like any module, and ``save(to:tokenizer:)`` writes a folder `transformers` loads.
public protocol CausalLanguageModel: Module<Float> {
  /// The configuration the model was built from.
  var configuration: ModelConfiguration { get }

  /// The logits of the next token after each position.
  ///
  /// - Parameters:
  ///   - tokens: `[B, T]` ids, each below the vocabulary size.
  ///   - positions: `[B, T]` position ids; nil for `cache.count ..< cache.count + T` (or `0..<T`).
  ///   - keyMask: `[B, past + T]`, false at padding tokens (left-padded batches); nil for none.
  ///   - cache: the keys and values of earlier positions, extended by these T; nil to read `tokens`
  ///     alone.
  ///   - lastPositionOnly: compute the logits of the last position only (generation).
  /// - Returns: `[B, T, V]`, or `[B, 1, V]` with `lastPositionOnly`.
  func logits(
    _ tokens: IndexTensor, positions: IndexTensor?, keyMask: MaskTensor?, cache: KVCache?, lastPositionOnly: Bool
  ) -> Tensor<Float>

  /// An empty cache for `batchSize` sequences of up to `capacity` positions, shaped for this model.
  func makeCache(batchSize: Int, capacity: Int) -> KVCache
}

extension CausalLanguageModel {
  /// The logits of every position of `tokens` `[B, T]`: `[B, T, V]`.
  public func callAsFunction(_ tokens: IndexTensor) -> Tensor<Float> {
    logits(tokens, positions: nil, keyMask: nil, cache: nil, lastPositionOnly: false)
  }

  /// The mean cross-entropy of next-token prediction, as `transformers` computes it with
  /// `labels=input_ids`: the logits at positions 0..<T−1 against the tokens at 1..<T, averaged over
  /// every predicted position that is not padding.
  ///
  /// - Parameters:
  ///   - tokens: `[B, T]`, T ≥ 2.
  ///   - lengths: the real length of each row when rows are right-padded; nil when none is.
  public func loss(_ tokens: IndexTensor, lengths: [Int]? = nil) -> Tensor<Float> {
    let (b, t) = (tokens.shape[0], tokens.shape[1])
    if tokens.rank != 2 || t < 2 || (lengths != nil && lengths!.count != b) {
      modelArgumentFailure(
        "loss", "tokens must be [B, T] with T ≥ 2 (and one length per row), got \(tokens.shape)", file: #fileID,
        line: #line)
    }
    let logits = self(tokens)
    let v = logits.shape[2]
    let predicted = logits.sliced(axis: 1, start: 0, end: t - 1).reshaped([b * (t - 1), v])
    // transformers' shift: the label of position i is token i + 1; padding is ignored (−100).
    var labels: [Int] = []
    for row in 0..<b {
      let length = lengths?[row] ?? t
      for i in 0..<(t - 1) { labels.append(i + 1 < length ? tokens.scalars[row * t + i + 1] : -100) }
    }
    return crossEntropy(predicted, labels: IndexTensor(labels), ignoreIndex: -100)
  }

  /// Checks that every id is a token of this model's vocabulary.
  func checkTokens(_ tokens: IndexTensor, file: StaticString, line: UInt) {
    let v = configuration.vocabularySize
    if let bad = tokens.scalars.first(where: { $0 < 0 || $0 >= v }) {
      modelArgumentFailure("logits", "token id \(bad) is outside the vocabulary 0..<\(v)", file: file, line: line)
    }
  }
}

/// The position ids of `T` new tokens after `past` cached ones for `B` rows: `[B, T]`.
func defaultPositions(batch: Int, count: Int, past: Int) -> IndexTensor {
  IndexTensor(
    (0..<batch).flatMap { _ in past..<(past + count) }, shape: [batch, count])
}
