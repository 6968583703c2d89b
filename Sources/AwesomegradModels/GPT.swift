import Awesomegrad
import Foundation

/// The sizes and options of a ``GPT``.
public struct GPTConfiguration: Sendable, Equatable {
  /// The number of distinct tokens.
  public var vocabularySize: Int
  /// The longest sequence the model reads (nanoGPT's `block_size`): the rows of the position table.
  public var contextLength: Int
  /// The number of transformer blocks.
  public var layers: Int
  /// The number of attention heads; divides `width`.
  public var heads: Int
  /// The channels of the residual stream (nanoGPT's `n_embd`).
  public var width: Int
  /// Whether linear layers and layer norms have biases.
  public var bias: Bool
  /// Whether `lm_head` shares its weight with the token embedding `transformer.wte`.
  public var tiesWeights: Bool
  /// The GELU form of the feed-forward networks.
  public var gelu: GELUApproximation
  /// How the weights are drawn: nanoGPT's N(0, 0.02²) or PyTorch's module defaults.
  public var initialization: GPTInitialization.Scheme

  /// A configuration; the defaults are nanoGPT's (biases, tied weights, exact GELU, its initialisation).
  public init(
    vocabularySize: Int, contextLength: Int, layers: Int, heads: Int, width: Int, bias: Bool = true,
    tiesWeights: Bool = true, gelu: GELUApproximation = .none,
    initialization: GPTInitialization.Scheme = .nanoGPT
  ) {
    self.vocabularySize = vocabularySize
    self.contextLength = contextLength
    self.layers = layers
    self.heads = heads
    self.width = width
    self.bias = bias
    self.tiesWeights = tiesWeights
    self.gelu = gelu
    self.initialization = initialization
  }
}

/// A GPT language model, structured and named as nanoGPT's `GPT`, so that a nanoGPT checkpoint maps
/// by name:
///
///     transformer.wte.weight [V, C]    token embedding
///     transformer.wpe.weight [T, C]    learned positions
///     transformer.h.{i}.ln_1 / .attn.c_attn / .attn.c_proj / .ln_2 / .mlp.c_fc / .mlp.c_proj
///     transformer.ln_f                 final layer norm
///     lm_head.weight [V, C]            logits (no bias); the same tensor as wte when tied
///
/// For tokens `[B, T]`: x = wte[tokens] + wpe[0..<T]; x ← block(x) for each block; logits =
/// lm_head(ln_f(x)), `[B, T, V]`. Weights start as ``GPTConfiguration/initialization`` says (see
/// ``GPTInitialization``): by default nanoGPT's N(0, 0.02²), with residual projections (`c_proj`) from
/// N(0, 0.02²/(2·layers)); layer norms at 1 and 0. A tied weight is one tensor: it is listed once in
/// `Module.parameters` and stepped once.
public final class GPT<Scalar: TensorScalar>: Module<Scalar> {
  /// The sizes and options.
  public let configuration: GPTConfiguration
  /// The token embedding, `transformer.wte`.
  public let wte: Embedding<Scalar>
  /// The position embedding, `transformer.wpe`.
  public let wpe: Embedding<Scalar>
  /// The blocks, `transformer.h.0` …
  public let blocks: [TransformerBlock<Scalar>]
  /// The final layer norm, `transformer.ln_f`.
  public let ln_f: LayerNorm<Scalar>
  /// The output projection, `lm_head`, without bias.
  public let lm_head: Linear<Scalar>

  /// A freshly initialised model.
  public init<G: RandomNumberGenerator>(_ configuration: GPTConfiguration, using generator: inout G) {
    let c = configuration
    if c.vocabularySize < 1 || c.contextLength < 1 || c.layers < 1 || c.heads < 1 || c.width % c.heads != 0 {
      modelArgumentFailure(
        "GPT", "sizes must be positive and heads must divide the width: \(c)", file: #fileID, line: #line)
    }
    self.configuration = c
    let initialization = GPTInitialization(c.initialization, layers: c.layers)
    wte = initialization.tokenEmbedding(
      vocabulary: c.vocabularySize, width: c.width, tied: c.tiesWeights, using: &generator)
    wpe = initialization.embedding(count: c.contextLength, dimensions: c.width, using: &generator)
    blocks = (0..<c.layers).map { _ in
      TransformerBlock(
        width: c.width, heads: c.heads, bias: c.bias, approximation: c.gelu, initialization: initialization,
        using: &generator)
    }
    ln_f = LayerNorm(dimensions: c.width, bias: c.bias)
    lm_head =
      c.tiesWeights
      ? Linear(weight: wte.weight, bias: nil)
      : initialization.linear(inputs: c.width, outputs: c.vocabularySize, bias: false, using: &generator)
    super.init()
    // nanoGPT's containers: `transformer` (a ModuleDict) holding `h` (a ModuleList).
    let transformer = Module<Scalar>()
    transformer.register("wte", wte)
    transformer.register("wpe", wpe)
    let h = Module<Scalar>()
    for (i, block) in blocks.enumerated() { h.register(String(i), block) }
    transformer.register("h", h)
    transformer.register("ln_f", ln_f)
    register("transformer", transformer)
    register("lm_head", lm_head)
  }

  /// The logits of the next token at every position: tokens `[B, T]` (T ≤ contextLength) →
  /// `[B, T, vocabularySize]`.
  public func callAsFunction(
    _ tokens: IndexTensor, file: StaticString = #fileID, line: UInt = #line
  ) -> Tensor<Scalar> {
    if tokens.rank != 2 || tokens.shape[1] > configuration.contextLength || tokens.shape[1] < 1 {
      modelArgumentFailure(
        "GPT", "tokens must be [B, T] with 1 ≤ T ≤ \(configuration.contextLength), got \(tokens.shape)",
        file: file, line: line)
    }
    return logits(tokens, lastPositionOnly: false)
  }

  /// The logits of every position, or of the last position only (`[B, 1, V]`): generation needs
  /// only those, and the head is the largest product when the vocabulary is large.
  func logits(_ tokens: IndexTensor, lastPositionOnly: Bool) -> Tensor<Scalar> {
    let t = tokens.shape[1]
    var x = wte(tokens) + wpe(IndexTensor.arange(t))
    for block in blocks { x = block(x) }
    return lm_head(ln_f(lastPositionOnly ? x.sliced(axis: 1, start: t - 1) : x))
  }

  /// The mean cross-entropy of predicting `targets` `[B, T]` (the tokens shifted by one) from
  /// `tokens` `[B, T]`, in nats per token.
  public func loss(_ tokens: IndexTensor, targets: IndexTensor) -> Tensor<Scalar> {
    let logits = self(tokens)
    return crossEntropy(
      logits.reshaped([-1, configuration.vocabularySize]), labels: targets.reshaped([-1]))
  }

  /// Continues `prompt` by `count` tokens, each drawn from softmax(logits / temperature) restricted
  /// to the `topK` most likely tokens (all when nil), reading at most the last `contextLength`
  /// tokens. Runs without recording a graph, and computes the logits of the last position only.
  ///
  /// - Returns: the `count` new tokens.
  public func generate<G: RandomNumberGenerator>(
    from prompt: [Int], count: Int, temperature: Double = 1, topK: Int? = nil, using generator: inout G
  ) -> [Int] {
    if prompt.isEmpty || temperature <= 0 || (topK ?? 1) < 1 {
      modelArgumentFailure(
        "GPT.generate", "needs a non-empty prompt, temperature > 0 and topK ≥ 1", file: #fileID, line: #line)
    }
    var tokens = prompt
    var generated: [Int] = []
    withoutGrad {
      for _ in 0..<Swift.max(count, 0) {
        let window = Array(tokens.suffix(configuration.contextLength))
        let logits = self.logits(IndexTensor(window, shape: [1, window.count]), lastPositionOnly: true).scalars
        var row = logits.map { Double($0) / temperature }
        if let topK, topK < row.count {
          let threshold = row.sorted(by: >)[topK - 1]
          row = row.map { $0 < threshold ? -.infinity : $0 }
        }
        let maximum = row.max()!
        let weights = row.map { Foundation.exp($0 - maximum) }
        var draw = Double.random(in: 0..<weights.reduce(0, +), using: &generator)
        var next = weights.lastIndex { $0 > 0 }!  // where rounding leaves `draw` past the last weight
        for (i, w) in weights.enumerated() {
          if draw < w {
            next = i
            break
          }
          draw -= w
        }
        tokens.append(next)
        generated.append(next)
      }
    }
    return generated
  }
}
