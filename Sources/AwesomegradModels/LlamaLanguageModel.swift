import Awesomegrad

/// Llama as `transformers`' `LlamaForCausalLM`, with its parameter names:
///
///     model.embed_tokens.weight [V, C]
///     model.layers.{i}.self_attn.q_proj [H·d, C], .k_proj [Hkv·d, C], .v_proj [Hkv·d, C], .o_proj [C, H·d]
///     model.layers.{i}.mlp.gate_proj [I, C], .up_proj [I, C], .down_proj [C, I]
///     model.layers.{i}.input_layernorm, .post_attention_layernorm    RMSNorm [C]
///     model.norm
///     lm_head.weight [V, C]               absent when tied to embed_tokens
///
/// Each layer: x ← x + o_proj(attn(input_layernorm(x))), then
/// x ← x + down_proj(silu(gate_proj(y)) ⊙ up_proj(y)) with y = post_attention_layernorm(x). The
/// attention applies rotary embeddings (`RotaryEmbedding`, `rotate_half` layout, base
/// `rope_theta`) to q and k, scales by 1/√d, masks the future, and lets query head h read key/value
/// head h / (H / Hkv) (grouped-query attention, `repeat_kv`'s order). Weights are `nn.Linear`'s
/// `[out, in]`; there are no biases unless `attention_bias`/`mlp_bias`.
public final class LlamaLanguageModel: Module<Float>, CausalLanguageModel {
  /// The configuration, with its special token ids.
  public let configuration: ModelConfiguration
  /// The sizes and options.
  public let sizes: LlamaConfiguration
  /// `model.embed_tokens`.
  public let embed_tokens: Embedding<Float>
  /// `model.layers`.
  public let layers: [LlamaDecoderLayer]
  /// `model.norm`.
  public let norm: RMSNorm<Float>
  /// `lm_head`; its weight is `embed_tokens`' when tied.
  public let lm_head: Projection
  /// The rotary embedding of the heads.
  public let rotary: RotaryEmbedding

  /// The tensors a Llama of `c` has, in `named_parameters()` order, with their shapes.
  static func specifications(_ c: LlamaConfiguration) -> [TensorSpecification] {
    let (v, w, i, d) = (c.vocabularySize, c.width, c.intermediateSize, c.headDimension)
    let (q, kv) = (c.heads * d, c.keyValueHeads * d)
    let std = c.initializerRange
    var specs = [
      TensorSpecification(
        name: "model.embed_tokens.weight", shape: [v, w], fields: "[vocab_size, hidden_size]",
        initial: .normal(standardDeviation: std))
    ]
    func linear(_ name: String, _ outputs: Int, _ inputs: Int, _ fields: (String, String), bias: Bool) {
      specs.append(
        .init(
          name: name + ".weight", shape: [outputs, inputs], fields: "[\(fields.0), \(fields.1)]",
          initial: .normal(standardDeviation: std)))
      if bias { specs.append(.init(name: name + ".bias", shape: [outputs], fields: "[\(fields.0)]", initial: .zeros)) }
    }
    let heads = "num_attention_heads·head_dim", kvHeads = "num_key_value_heads·head_dim"
    for layer in 0..<c.layers {
      let prefix = "model.layers.\(layer)."
      linear(prefix + "self_attn.q_proj", q, w, (heads, "hidden_size"), bias: c.attentionBias)
      linear(prefix + "self_attn.k_proj", kv, w, (kvHeads, "hidden_size"), bias: c.attentionBias)
      linear(prefix + "self_attn.v_proj", kv, w, (kvHeads, "hidden_size"), bias: c.attentionBias)
      linear(prefix + "self_attn.o_proj", w, q, ("hidden_size", heads), bias: c.attentionBias)
      linear(prefix + "mlp.gate_proj", i, w, ("intermediate_size", "hidden_size"), bias: c.mlpBias)
      linear(prefix + "mlp.up_proj", i, w, ("intermediate_size", "hidden_size"), bias: c.mlpBias)
      linear(prefix + "mlp.down_proj", w, i, ("hidden_size", "intermediate_size"), bias: c.mlpBias)
      for norm in ["input_layernorm", "post_attention_layernorm"] {
        specs.append(.init(name: prefix + norm + ".weight", shape: [w], fields: "[hidden_size]", initial: .ones))
      }
    }
    specs.append(.init(name: "model.norm.weight", shape: [w], fields: "[hidden_size]", initial: .ones))
    if !c.tiesWordEmbeddings {
      linear("lm_head", v, w, ("vocab_size", "hidden_size"), bias: false)
    }
    return specs
  }

  /// A model over `tensors` (by the names of ``specifications(_:)``, with those shapes).
  init(configuration: ModelConfiguration, sizes c: LlamaConfiguration, tensors: [String: Tensor<Float>]) {
    self.configuration = configuration
    sizes = c
    func linear(_ name: String) -> Projection {
      Projection(weight: tensors[name + ".weight"]!, bias: tensors[name + ".bias"], layout: .outputsByInputs)
    }
    func rmsNorm(_ name: String) -> RMSNorm<Float> { RMSNorm(weight: tensors[name + ".weight"]!, eps: c.rmsNormEpsilon) }
    embed_tokens = Embedding(weight: tensors["model.embed_tokens.weight"]!)
    rotary = RotaryEmbedding(dimensions: c.headDimension, base: c.ropeTheta)
    layers = (0..<c.layers).map { i in
      let prefix = "model.layers.\(i)."
      return LlamaDecoderLayer(
        self_attn: LlamaAttention(
          q_proj: linear(prefix + "self_attn.q_proj"), k_proj: linear(prefix + "self_attn.k_proj"),
          v_proj: linear(prefix + "self_attn.v_proj"), o_proj: linear(prefix + "self_attn.o_proj"),
          heads: c.heads, keyValueHeads: c.keyValueHeads, headDimension: c.headDimension),
        mlp: LlamaMLP(
          gate_proj: linear(prefix + "mlp.gate_proj"), up_proj: linear(prefix + "mlp.up_proj"),
          down_proj: linear(prefix + "mlp.down_proj")),
        input_layernorm: rmsNorm(prefix + "input_layernorm"),
        post_attention_layernorm: rmsNorm(prefix + "post_attention_layernorm"))
    }
    norm = rmsNorm("model.norm")
    lm_head =
      c.tiesWordEmbeddings
      ? Projection(weight: embed_tokens.weight, bias: nil, layout: .outputsByInputs) : linear("lm_head")
    super.init()
    let model = Module<Float>()
    model.register("embed_tokens", embed_tokens)
    let list = Module<Float>()
    for (i, layer) in layers.enumerated() { list.register(String(i), layer) }
    model.register("layers", list)
    model.register("norm", norm)
    register("model", model)
    register("lm_head", lm_head)
  }

  /// A Llama with fresh weights drawn as `transformers` draws them (normal(0, initializer_range),
  /// norms 1, biases 0).
  public convenience init(_ sizes: LlamaConfiguration, eosTokenIDs: [Int] = [], seed: UInt64 = 0) {
    var generator = SeededGenerator(seed: seed)
    let tensors = Dictionary(
      uniqueKeysWithValues: Self.specifications(sizes).map { ($0.name, initialTensor($0, using: &generator)) })
    self.init(
      configuration: ModelConfiguration(.llama(sizes), eosTokenIDs: eosTokenIDs), sizes: sizes, tensors: tensors)
  }

  /// See ``CausalLanguageModel/logits(_:positions:keyMask:cache:lastPositionOnly:)``.
  public func logits(
    _ tokens: IndexTensor, positions: IndexTensor?, keyMask: MaskTensor?, cache: KVCache?, lastPositionOnly: Bool
  ) -> Tensor<Float> {
    checkTokens(tokens, file: #fileID, line: #line)
    let (b, t) = (tokens.shape[0], tokens.shape[1])
    let past = cache?.count ?? 0
    let positions = positions ?? defaultPositions(batch: b, count: t, past: past)
    // cos and sin per (row, position), [B, 1, T, d]: one table for every head.
    let tables = rotary.tables(positions: positions, as: Float.self)
    let (cos, sin) = (tables.cos.unsqueezed(axis: 1), tables.sin.unsqueezed(axis: 1))
    var x = embed_tokens(tokens)
    for (i, layer) in layers.enumerated() {
      x = layer(x, layer: i, cos: cos, sin: sin, keyMask: keyMask, cache: cache)
    }
    cache?.advance(by: t)
    return lm_head(norm(lastPositionOnly ? x.sliced(axis: 1, start: t - 1) : x))
  }

  /// See ``CausalLanguageModel/makeCache(batchSize:capacity:)``.
  public func makeCache(batchSize: Int, capacity: Int) -> KVCache {
    KVCache(
      batchSize: batchSize, capacity: capacity, layers: sizes.layers, keyValueHeads: sizes.keyValueHeads,
      headDimension: sizes.headDimension)
  }
}

/// Llama's attention: q, k, v projections, rotary embeddings, grouped-query attention, o projection.
public final class LlamaAttention: Module<Float> {
  /// C → H·d.
  public let q_proj: Projection
  /// C → Hkv·d.
  public let k_proj: Projection
  /// C → Hkv·d.
  public let v_proj: Projection
  /// H·d → C.
  public let o_proj: Projection
  /// Query heads H.
  public let heads: Int
  /// Key/value heads Hkv, dividing H.
  public let keyValueHeads: Int
  /// The size d of a head.
  public let headDimension: Int

  init(
    q_proj: Projection, k_proj: Projection, v_proj: Projection, o_proj: Projection, heads: Int,
    keyValueHeads: Int, headDimension: Int
  ) {
    (self.q_proj, self.k_proj, self.v_proj, self.o_proj) = (q_proj, k_proj, v_proj, o_proj)
    (self.heads, self.keyValueHeads, self.headDimension) = (heads, keyValueHeads, headDimension)
    super.init()
    register("q_proj", q_proj)
    register("k_proj", k_proj)
    register("v_proj", v_proj)
    register("o_proj", o_proj)
  }

  /// `[B, T, C]` → `[B, T, C]`.
  func callAsFunction(
    _ x: Tensor<Float>, layer: Int, cos: Tensor<Float>, sin: Tensor<Float>, keyMask: MaskTensor?, cache: KVCache?
  ) -> Tensor<Float> {
    let (b, t, d) = (x.shape[0], x.shape[1], headDimension)
    func heads(_ y: Tensor<Float>, _ n: Int) -> Tensor<Float> { y.reshaped([b, t, n, d]).permuted([0, 2, 1, 3]) }
    let query = heads(q_proj(x), self.heads).rotaryEmbedded(cos: cos, sin: sin)
    let key = heads(k_proj(x), keyValueHeads).rotaryEmbedded(cos: cos, sin: sin)
    let value = heads(v_proj(x), keyValueHeads)
    let out =
      cache?.attention(layer: layer, query: query, key: key, value: value, keyMask: keyMask)
      ?? causalAttention(query: query, key: key, value: value, keyMask: keyMask)
    return o_proj(out.permuted([0, 2, 1, 3]).reshaped([b, t, self.heads * d]))
  }
}

/// Llama's SwiGLU MLP: down_proj(silu(gate_proj(x)) ⊙ up_proj(x)).
public final class LlamaMLP: Module<Float> {
  /// C → I.
  public let gate_proj: Projection
  /// C → I.
  public let up_proj: Projection
  /// I → C.
  public let down_proj: Projection

  init(gate_proj: Projection, up_proj: Projection, down_proj: Projection) {
    (self.gate_proj, self.up_proj, self.down_proj) = (gate_proj, up_proj, down_proj)
    super.init()
    register("gate_proj", gate_proj)
    register("up_proj", up_proj)
    register("down_proj", down_proj)
  }

  /// `[…, C]` → `[…, C]`.
  public override func callAsFunction(_ x: Tensor<Float>) -> Tensor<Float> {
    down_proj(gate_proj(x).silu() * up_proj(x))
  }
}

/// A Llama decoder layer: pre-norm attention and MLP with residuals.
public final class LlamaDecoderLayer: Module<Float> {
  /// The attention.
  public let self_attn: LlamaAttention
  /// The MLP.
  public let mlp: LlamaMLP
  /// The norm before attention.
  public let input_layernorm: RMSNorm<Float>
  /// The norm before the MLP.
  public let post_attention_layernorm: RMSNorm<Float>

  init(
    self_attn: LlamaAttention, mlp: LlamaMLP, input_layernorm: RMSNorm<Float>,
    post_attention_layernorm: RMSNorm<Float>
  ) {
    (self.self_attn, self.mlp) = (self_attn, mlp)
    (self.input_layernorm, self.post_attention_layernorm) = (input_layernorm, post_attention_layernorm)
    super.init()
    register("self_attn", self_attn)
    register("mlp", mlp)
    register("input_layernorm", input_layernorm)
    register("post_attention_layernorm", post_attention_layernorm)
  }

  /// `[B, T, C]` → `[B, T, C]`.
  func callAsFunction(
    _ x: Tensor<Float>, layer: Int, cos: Tensor<Float>, sin: Tensor<Float>, keyMask: MaskTensor?, cache: KVCache?
  ) -> Tensor<Float> {
    let y = x + self_attn(input_layernorm(x), layer: layer, cos: cos, sin: sin, keyMask: keyMask, cache: cache)
    return y + mlp(post_attention_layernorm(y))
  }
}
