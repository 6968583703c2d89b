import Awesomegrad
import Foundation

/// How each new token is chosen from the logits of the last position.
public enum TokenSelection: Sendable, Equatable {
  /// The most likely token (the lowest id among equal logits), as `do_sample=False`.
  case greedy
  /// A draw from softmax(logits / temperature), restricted first to the `topK` most likely tokens
  /// and then to the smallest set whose probability reaches `topP`, as `transformers`' temperature,
  /// top-k and top-p warpers do in that order.
  case sampling(temperature: Double = 1, topK: Int? = nil, topP: Double? = nil)
}

/// The options of ``CausalLanguageModel/generate(_:options:)``.
public struct GenerationOptions: Sendable, Equatable {
  /// The most new tokens to make.
  public var maxNewTokens: Int
  /// Greedy decoding or sampling.
  public var selection: TokenSelection
  /// The seed of the sampling draws.
  public var seed: UInt64
  /// Tokens that end a sequence (included in its output); nil for the configuration's
  /// `eos_token_id`, `[]` to always make `maxNewTokens`.
  public var stopTokens: [Int]?

  /// Options; by default greedy, stopping at the configuration's end-of-sequence tokens.
  public init(
    maxNewTokens: Int, selection: TokenSelection = .greedy, seed: UInt64 = 0, stopTokens: [Int]? = nil
  ) {
    self.maxNewTokens = maxNewTokens
    self.selection = selection
    self.seed = seed
    self.stopTokens = stopTokens
  }
}

extension CausalLanguageModel {
  /// Continues `prompt` (token ids) and returns the new tokens, ending with a stop token if one was
  /// made.
  ///
  /// The prompt is read in one forward pass that fills a ``KVCache``; each later step feeds only
  /// the token just chosen, and only the last position's logits are computed. Runs without
  /// recording a graph.
  public func generate(_ prompt: [Int], options: GenerationOptions) -> [Int] {
    generate(batch: [prompt], options: options)[0]
  }

  /// Continues each prompt of a batch at once: prompts of different lengths are padded on the left
  /// and masked, with position ids counted from each prompt's first real token, as `transformers`
  /// does. A sequence that made a stop token stops there; the batch runs until all have stopped.
  public func generate(batch prompts: [[Int]], options: GenerationOptions) -> [[Int]] {
    let b = prompts.count
    let length = prompts.map(\.count).max() ?? 0
    let contextLength = configuration.contextLength
    if b == 0 || prompts.contains(where: \.isEmpty) || options.maxNewTokens < 0 {
      modelArgumentFailure(
        "generate", "needs at least one prompt, no empty prompt and maxNewTokens ≥ 0", file: #fileID, line: #line)
    }
    if case .gpt2 = configuration.architecture, length + options.maxNewTokens > contextLength {
      modelArgumentFailure(
        "generate", "a prompt of \(length) tokens and \(options.maxNewTokens) new ones pass GPT-2's "
          + "\(contextLength) positions", file: #fileID, line: #line)
    }
    if case .sampling(let temperature, let topK, let topP) = options.selection,
      !(temperature > 0) || (topK ?? 1) < 1 || !((topP ?? 1) > 0 && (topP ?? 1) <= 1)
    {
      modelArgumentFailure(
        "generate", "sampling needs temperature > 0, topK ≥ 1 and topP in (0, 1]", file: #fileID, line: #line)
    }
    if options.maxNewTokens == 0 { return prompts.map { _ in [] } }
    let stops = Set(options.stopTokens ?? configuration.eosTokenIDs)
    let pad = configuration.padTokenID ?? configuration.eosTokenIDs.first ?? 0
    var generator = SeededGenerator(seed: options.seed)

    // Left padding: row r is [pad…, prompt r]; its mask is false on the padding and its positions
    // count from its first real token (transformers' cumsum(mask) − 1, padding at 1).
    let padded = prompts.map { [Int](repeating: pad, count: length - $0.count) + $0 }
    let isPadded = prompts.contains { $0.count < length }
    var mask = prompts.map { [Bool](repeating: false, count: length - $0.count) + [Bool](repeating: true, count: $0.count) }
    var nextPosition = prompts.map(\.count)
    let positions = IndexTensor(
      prompts.flatMap { p in [Int](repeating: 1, count: length - p.count) + Array(0..<p.count) }, shape: [b, length])
    // The cache holds the model's whole context, allocated once (untouched pages cost nothing); a
    // longer request (Llama's rotary positions extend past it) gets what it needs.
    let cache = makeCache(batchSize: b, capacity: max(configuration.contextLength, length + options.maxNewTokens))

    var outputs = [[Int]](repeating: [], count: b)
    var finished = [Bool](repeating: false, count: b)
    return withoutGrad {
      var logits = self.logits(
        IndexTensor(padded.flatMap { $0 }, shape: [b, length]), positions: positions,
        keyMask: isPadded ? MaskTensor(mask.flatMap { $0 }, shape: [b, length]) : nil, cache: cache,
        lastPositionOnly: true)
      for step in 0..<options.maxNewTokens {
        let v = logits.shape[2]
        let rows = logits.scalars
        var next = [Int](repeating: pad, count: b)
        for r in 0..<b where !finished[r] {
          next[r] = selectToken(rows[(r * v)..<((r + 1) * v)], options.selection, using: &generator)
          outputs[r].append(next[r])
          if stops.contains(next[r]) { finished[r] = true }
        }
        if step == options.maxNewTokens - 1 || finished.allSatisfy({ $0 }) { break }
        for r in 0..<b { mask[r].append(true) }
        logits = self.logits(
          IndexTensor(next, shape: [b, 1]), positions: IndexTensor(nextPosition, shape: [b, 1]),
          keyMask: isPadded ? MaskTensor(mask.flatMap { $0 }, shape: [b, mask[0].count]) : nil, cache: cache,
          lastPositionOnly: true)
        for r in 0..<b { nextPosition[r] += 1 }
      }
      return outputs
    }
  }
}

/// The next token from one row of logits.
func selectToken<G: RandomNumberGenerator>(
  _ logits: ArraySlice<Float>, _ selection: TokenSelection, using generator: inout G
) -> Int {
  let base = logits.startIndex
  switch selection {
  case .greedy:
    var best = base
    for i in logits.indices where logits[i] > logits[best] { best = i }
    return best - base
  case .sampling(let temperature, let topK, let topP):
    var scores = logits.map { Double($0) / temperature }
    if let topK, topK < scores.count {
      // Keep the scores at least as large as the k-th largest (ties at the threshold stay).
      let threshold = scores.sorted(by: >)[topK - 1]
      for i in scores.indices where scores[i] < threshold { scores[i] = -.infinity }
    }
    let maximum = scores.max() ?? 0
    var weights = scores.map { Foundation.exp($0 - maximum) }
    if let topP, topP < 1 {
      // transformers' top-p: sorted ascending, drop the tokens whose cumulative probability is
      // ≤ 1 − topP, always keeping the most likely one.
      let total = weights.reduce(0, +)
      let order = weights.indices.sorted { weights[$0] < weights[$1] || (weights[$0] == weights[$1] && $0 > $1) }
      var cumulative = 0.0
      for (rank, i) in order.enumerated() {
        cumulative += weights[i] / total
        if cumulative <= 1 - topP && rank < order.count - 1 { weights[i] = 0 }
      }
    }
    var draw = Double.random(in: 0..<weights.reduce(0, +), using: &generator)
    for (i, w) in weights.enumerated() {
      if draw < w { return i }
      draw -= w
    }
    return weights.lastIndex { $0 > 0 } ?? 0  // where rounding leaves `draw` past the last weight
  }
}
