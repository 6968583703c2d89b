import Awesomegrad

/// GPT-2 as `transformers`' `GPT2LMHeadModel`, with its parameter names:
///
///     transformer.wte.weight [V, C]       token embedding; also the LM head when tied
///     transformer.wpe.weight [P, C]       learned positions
///     transformer.h.{i}.ln_1, .attn.c_attn [C, 3C], .attn.c_proj [C, C], .ln_2,
///                       .mlp.c_fc [C, 4C], .mlp.c_proj [4C, C]
///     transformer.ln_f
///     lm_head.weight [V, C]               only when not tied
///
/// For tokens `[B, T]`: x = wte[tokens] + wpe[positions]; each block is pre-norm,
/// x ← x + attn(ln_1(x)), x ← x + mlp(ln_2(x)); logits = ln_f(x)·wteᵀ. The attention splits
/// `c_attn`'s output into q, k, v (in that order), each into heads of C/heads columns, scales the
/// scores by 1/√(C/heads) and masks the future; the MLP is GELU's tanh form (`gelu_new`) between
/// `c_fc` and `c_proj`.
///
/// GPT-2's linear layers are `Conv1D`: their weights are stored `[in, out]` and applied as x·W + b,
/// the transpose of `nn.Linear`'s `[out, in]`. They are kept as stored and multiplied with
/// gemm's transpose flag, so loading copies nothing and saving writes them back unchanged: each is
/// a ``Projection`` of layout ``Projection/Layout/inputsByOutputs``.
public final class GPT2LanguageModel: Module<Float>, CausalLanguageModel {
  /// The configuration, with its special token ids.
  public let configuration: ModelConfiguration
  /// The sizes and options.
  public let sizes: GPT2Configuration
  /// `transformer.wte`.
  public let wte: Embedding<Float>
  /// `transformer.wpe`.
  public let wpe: Embedding<Float>
  /// `transformer.h`.
  public let blocks: [GPT2Block]
  /// `transformer.ln_f`.
  public let ln_f: LayerNorm<Float>
  /// `lm_head`, nil when tied to `wte` (the default).
  public let lm_head: Projection?

  /// The tensors a GPT-2 of `c` has, in `named_parameters()` order, with their shapes.
  static func specifications(_ c: GPT2Configuration) -> [TensorSpecification] {
    let (v, p, w, inner) = (c.vocabularySize, c.contextLength, c.width, c.innerWidth)
    let std = c.initializerRange, residual = c.initializerRange / (2 * Double(c.layers)).squareRoot()
    var specs = [
      TensorSpecification(
        name: "transformer.wte.weight", shape: [v, w], fields: "[vocab_size, n_embd]", initial: .normal(standardDeviation: std)),
      TensorSpecification(
        name: "transformer.wpe.weight", shape: [p, w], fields: "[n_positions, n_embd]", initial: .normal(standardDeviation: std)),
    ]
    func norm(_ name: String) {
      specs.append(.init(name: name + ".weight", shape: [w], fields: "[n_embd]", initial: .ones))
      specs.append(.init(name: name + ".bias", shape: [w], fields: "[n_embd]", initial: .zeros))
    }
    func conv(_ name: String, _ shape: [Int], _ input: String, _ output: String, deviation: Double) {
      specs.append(
        .init(
          name: name + ".weight", shape: shape, fields: "[\(input), \(output)]",
          initial: .normal(standardDeviation: deviation)))
      specs.append(.init(name: name + ".bias", shape: [shape[1]], fields: "[\(output)]", initial: .zeros))
    }
    for i in 0..<c.layers {
      let prefix = "transformer.h.\(i)."
      norm(prefix + "ln_1")
      conv(prefix + "attn.c_attn", [w, 3 * w], "n_embd", "3·n_embd", deviation: std)
      conv(prefix + "attn.c_proj", [w, w], "n_embd", "n_embd", deviation: residual)
      norm(prefix + "ln_2")
      conv(prefix + "mlp.c_fc", [w, inner], "n_embd", "n_inner", deviation: std)
      conv(prefix + "mlp.c_proj", [inner, w], "n_inner", "n_embd", deviation: residual)
    }
    norm("transformer.ln_f")
    if !c.tiesWordEmbeddings {
      specs.append(
        .init(name: "lm_head.weight", shape: [v, w], fields: "[vocab_size, n_embd]", initial: .normal(standardDeviation: std)))
    }
    return specs
  }

  /// A model over `tensors` (by the names of ``specifications(_:)``, with those shapes).
  init(configuration: ModelConfiguration, sizes c: GPT2Configuration, tensors: [String: Tensor<Float>]) {
    self.configuration = configuration
    sizes = c
    func t(_ name: String) -> Tensor<Float> { tensors[name]! }
    func norm(_ name: String) -> LayerNorm<Float> {
      LayerNorm(weight: t(name + ".weight"), bias: t(name + ".bias"), eps: c.layerNormEpsilon)
    }
    func conv(_ name: String) -> Projection {
      Projection(weight: t(name + ".weight"), bias: t(name + ".bias"), layout: .inputsByOutputs)
    }
    wte = Embedding(weight: t("transformer.wte.weight"))
    wpe = Embedding(weight: t("transformer.wpe.weight"))
    blocks = (0..<c.layers).map { i in
      let prefix = "transformer.h.\(i)."
      return GPT2Block(
        ln_1: norm(prefix + "ln_1"),
        attn: GPT2Attention(c_attn: conv(prefix + "attn.c_attn"), c_proj: conv(prefix + "attn.c_proj"), heads: c.heads),
        ln_2: norm(prefix + "ln_2"),
        mlp: GPT2MLP(c_fc: conv(prefix + "mlp.c_fc"), c_proj: conv(prefix + "mlp.c_proj"), activation: c.activation))
    }
    ln_f = norm("transformer.ln_f")
    lm_head = c.tiesWordEmbeddings ? nil : Projection(weight: t("lm_head.weight"), bias: nil, layout: .outputsByInputs)
    super.init()
    let transformer = Module<Float>()
    transformer.register("wte", wte)
    transformer.register("wpe", wpe)
    let h = Module<Float>()
    for (i, block) in blocks.enumerated() { h.register(String(i), block) }
    transformer.register("h", h)
    transformer.register("ln_f", ln_f)
    register("transformer", transformer)
    if let lm_head { register("lm_head", lm_head) }
  }

  /// A GPT-2 with fresh weights drawn as `transformers` draws them (normal(0, initializer_range),
  /// residual projections scaled by 1/√(2·n_layer), layer norms 1 and 0, biases 0).
  public convenience init(_ sizes: GPT2Configuration, eosTokenIDs: [Int] = [], seed: UInt64 = 0) {
    var generator = SeededGenerator(seed: seed)
    let tensors = Dictionary(
      uniqueKeysWithValues: Self.specifications(sizes).map { ($0.name, initialTensor($0, using: &generator)) })
    self.init(
      configuration: ModelConfiguration(.gpt2(sizes), eosTokenIDs: eosTokenIDs), sizes: sizes, tensors: tensors)
  }

  /// See ``CausalLanguageModel/logits(_:positions:keyMask:cache:lastPositionOnly:)``.
  public func logits(
    _ tokens: IndexTensor, positions: IndexTensor?, keyMask: MaskTensor?, cache: KVCache?, lastPositionOnly: Bool
  ) -> Tensor<Float> {
    checkTokens(tokens, file: #fileID, line: #line)
    let (b, t) = (tokens.shape[0], tokens.shape[1])
    let past = cache?.count ?? 0
    let positions = positions ?? defaultPositions(batch: b, count: t, past: past)
    if let bad = positions.scalars.first(where: { $0 < 0 || $0 >= sizes.contextLength }) {
      modelArgumentFailure(
        "GPT2LanguageModel", "position \(bad) is outside the context 0..<\(sizes.contextLength)", file: #fileID,
        line: #line)
    }
    var x = wte(tokens) + wpe(positions)
    for (i, block) in blocks.enumerated() {
      x = block(x, layer: i, keyMask: keyMask, cache: cache)
    }
    cache?.advance(by: t)
    x = ln_f(lastPositionOnly ? x.sliced(axis: 1, start: t - 1) : x)
    if let lm_head { return lm_head(x) }
    return x.matmul(wte.weight, transposeB: true)
  }

  /// See ``CausalLanguageModel/makeCache(batchSize:capacity:)``.
  public func makeCache(batchSize: Int, capacity: Int) -> KVCache {
    KVCache(
      batchSize: batchSize, capacity: capacity, layers: sizes.layers, keyValueHeads: sizes.heads,
      headDimension: sizes.width / sizes.heads)
  }
}

/// GPT-2's attention: `c_attn` makes q | k | v, `c_proj` mixes the heads' outputs.
public final class GPT2Attention: Module<Float> {
  /// C → 3C.
  public let c_attn: Projection
  /// C → C.
  public let c_proj: Projection
  /// The number of heads.
  public let heads: Int

  init(c_attn: Projection, c_proj: Projection, heads: Int) {
    self.c_attn = c_attn
    self.c_proj = c_proj
    self.heads = heads
    super.init()
    register("c_attn", c_attn)
    register("c_proj", c_proj)
  }

  /// `[B, T, C]` → `[B, T, C]`, attending to the cached positions and the causal past.
  func callAsFunction(_ x: Tensor<Float>, layer: Int, keyMask: MaskTensor?, cache: KVCache?) -> Tensor<Float> {
    let qkv = c_attn(x)
    guard cache != nil || keyMask != nil else {
      // The whole sequence at once: heads read from c_attn's output in place.
      return c_proj(multiHeadAttention(qkv: qkv, heads: heads, isCausal: true))
    }
    let (b, t, c) = (x.shape[0], x.shape[1], x.shape[2])
    let d = c / heads
    func split(_ part: Int) -> Tensor<Float> {
      qkv.sliced(axis: 2, start: part * c, end: (part + 1) * c).reshaped([b, t, heads, d]).permuted([0, 2, 1, 3])
    }
    let (query, key, value) = (split(0), split(1), split(2))
    let out =
      cache?.attention(layer: layer, query: query, key: key, value: value, keyMask: keyMask)
      ?? causalAttention(query: query, key: key, value: value, keyMask: keyMask)
    return c_proj(out.permuted([0, 2, 1, 3]).reshaped([b, t, c]))
  }
}

/// GPT-2's MLP: c_proj(gelu(c_fc(x))).
public final class GPT2MLP: Module<Float> {
  /// C → inner.
  public let c_fc: Projection
  /// inner → C.
  public let c_proj: Projection
  /// GELU's form: tanh (`gelu_new`) or exact (`gelu`).
  public let activation: GELUApproximation

  init(c_fc: Projection, c_proj: Projection, activation: GELUApproximation) {
    self.c_fc = c_fc
    self.c_proj = c_proj
    self.activation = activation
    super.init()
    register("c_fc", c_fc)
    register("c_proj", c_proj)
  }

  /// `[…, C]` → `[…, C]`.
  public override func callAsFunction(_ x: Tensor<Float>) -> Tensor<Float> {
    c_proj(c_fc(x).gelu(approximate: activation))
  }
}

/// A GPT-2 block: x ← x + attn(ln_1(x)), x ← x + mlp(ln_2(x)).
public final class GPT2Block: Module<Float> {
  /// The norm before attention.
  public let ln_1: LayerNorm<Float>
  /// The attention.
  public let attn: GPT2Attention
  /// The norm before the MLP.
  public let ln_2: LayerNorm<Float>
  /// The MLP.
  public let mlp: GPT2MLP

  init(ln_1: LayerNorm<Float>, attn: GPT2Attention, ln_2: LayerNorm<Float>, mlp: GPT2MLP) {
    self.ln_1 = ln_1
    self.attn = attn
    self.ln_2 = ln_2
    self.mlp = mlp
    super.init()
    register("ln_1", ln_1)
    register("attn", attn)
    register("ln_2", ln_2)
    register("mlp", mlp)
  }

  /// `[B, T, C]` → `[B, T, C]`.
  func callAsFunction(_ x: Tensor<Float>, layer: Int, keyMask: MaskTensor?, cache: KVCache?) -> Tensor<Float> {
    let y = x + attn(ln_1(x), layer: layer, keyMask: keyMask, cache: cache)
    return y + mlp(ln_2(y))
  }
}
