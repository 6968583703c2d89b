import Awesomegrad

/// The layers of a GPT-style transformer, with nanoGPT's parameter names so that its checkpoints
/// map by name: ``CausalSelfAttention`` (`c_attn`, `c_proj`), ``FeedForward`` (`c_fc`, `c_proj`)
/// and the pre-norm ``TransformerBlock`` (`ln_1`, `attn`, `ln_2`, `mlp`), with the initialisation
/// schemes of ``GPTInitialization``. The general layers (`Embedding`, `LayerNorm`) are the core's.

/// How a GPT's layers draw their initial weights.
///
/// - `.nanoGPT`: every linear weight and embedding from N(0, 0.02²), residual
///   projections (`c_proj`) from N(0, 0.02²/(2·layers)), biases 0 (nanoGPT's `_init_weights`).
/// - `.pytorch`: each module's own PyTorch default, as a model written with
///   `nn.Linear` and `nn.Embedding` and no init code gets: linear weights and biases from
///   U(−1/√fan_in, 1/√fan_in), embeddings from N(0, 1). A tied `wte` is `lm_head`'s weight, so it
///   is drawn as that linear layer's.
///
/// Layer norms start at weight 1 and bias 0 under both.
public struct GPTInitialization: Sendable, Equatable {
  /// The two schemes.
  public enum Scheme: Sendable, Equatable, CaseIterable {
    /// nanoGPT's N(0, 0.02²), with scaled residual projections.
    case nanoGPT
    /// PyTorch's module defaults.
    case pytorch
  }

  /// The scheme.
  public var scheme: Scheme
  /// The standard deviation of nanoGPT's linear weights and embeddings (0.02).
  public var standardDeviation: Double = 0.02
  /// The number of blocks, which scales nanoGPT's residual projections (`c_proj`) by 1/√(2·layers).
  public var layers: Int

  /// `scheme` for a model of `layers` blocks.
  public init(_ scheme: Scheme = .nanoGPT, layers: Int) {
    self.scheme = scheme
    self.layers = layers
  }

  /// The standard deviation of a nanoGPT residual projection: 0.02/√(2·layers).
  var residualStandardDeviation: Double { standardDeviation / (2 * Double(layers)).squareRoot() }

  /// A linear layer inputs → outputs; `residual` marks a projection back into the residual stream.
  func linear<Scalar: TensorScalar, G: RandomNumberGenerator>(
    inputs: Int, outputs: Int, bias: Bool, residual: Bool = false, using generator: inout G
  ) -> Linear<Scalar> {
    switch scheme {
    case .pytorch:
      return Linear(inputs: inputs, outputs: outputs, bias: bias, initialization: .kaimingUniform, using: &generator)
    case .nanoGPT:
      let deviation = residual ? residualStandardDeviation : standardDeviation
      return Linear(
        weight: .randomNormal([outputs, inputs], standardDeviation: Scalar(deviation), using: &generator),
        bias: bias ? .zeros([outputs]) : nil)
    }
  }

  /// The token table `[vocabulary, width]`. PyTorch's tying assigns lm_head's weight to the
  /// embedding, so under its defaults a tied table is drawn as that linear layer's weight,
  /// U(−1/√width, 1/√width); otherwise as an embedding.
  func tokenEmbedding<Scalar: TensorScalar, G: RandomNumberGenerator>(
    vocabulary: Int, width: Int, tied: Bool, using generator: inout G
  ) -> Embedding<Scalar> {
    guard tied && scheme == .pytorch else {
      return embedding(count: vocabulary, dimensions: width, using: &generator)
    }
    let bound = 1 / Scalar(width).squareRoot()
    return Embedding(
      weight: .randomUniform([vocabulary, width], low: -bound, high: bound, requiresGrad: true, using: &generator))
  }

  /// An embedding table of `count` vectors of `dimensions`.
  func embedding<Scalar: TensorScalar, G: RandomNumberGenerator>(
    count: Int, dimensions: Int, using generator: inout G
  ) -> Embedding<Scalar> {
    let deviation: Scalar = scheme == .pytorch ? 1 : Scalar(standardDeviation)
    return Embedding(count: count, dimensions: dimensions, standardDeviation: deviation, using: &generator)
  }
}

/// Masked multi-head self-attention with one fused q|k|v projection, as nanoGPT's
/// `CausalSelfAttention`:
///
///     q | k | v = c_attn(x),  y = softmax(q·kᵀ/√d, causal)·v per head,  out = c_proj(y)
///
/// Parameters: `c_attn.weight` `[3C, C]`, `c_attn.bias` `[3C]`, `c_proj.weight` `[C, C]`,
/// `c_proj.bias` `[C]`. Input and output `[B, T, C]`. The heads are read from `c_attn`'s output in
/// place (the core's `multiHeadAttention(qkv:heads:mask:isCausal:)`), without copies.
public final class CausalSelfAttention<Scalar: TensorScalar>: Module<Scalar> {
  /// The fused query, key and value projection, C → 3C.
  public let c_attn: Linear<Scalar>
  /// The output projection, C → C.
  public let c_proj: Linear<Scalar>
  /// The number of heads; divides the width.
  public let heads: Int

  /// Attention over `width` channels split into `heads` heads, initialised by `initialization`.
  public init<G: RandomNumberGenerator>(
    width: Int, heads: Int, bias: Bool = true, initialization: GPTInitialization, using generator: inout G
  ) {
    if heads < 1 || width % heads != 0 {
      modelArgumentFailure(
        "CausalSelfAttention", "heads (\(heads)) must divide the width (\(width))", file: #fileID, line: #line
      )
    }
    self.heads = heads
    c_attn = initialization.linear(inputs: width, outputs: 3 * width, bias: bias, using: &generator)
    c_proj = initialization.linear(inputs: width, outputs: width, bias: bias, residual: true, using: &generator)
    super.init()
    register("c_attn", c_attn)
    register("c_proj", c_proj)
  }

  /// `[B, T, C]` → `[B, T, C]`; position t attends to positions ≤ t.
  public override func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    if x.rank != 3 {
      modelArgumentFailure(
        "CausalSelfAttention", "input must be [B, T, C], got \(x.shape)", file: #fileID, line: #line)
    }
    let qkv = c_attn(x)
    return c_proj(multiHeadAttention(qkv: qkv, heads: heads, isCausal: true))
  }
}

/// The position-wise feed-forward network of a transformer block, nanoGPT's `MLP`:
/// c_proj(gelu(c_fc(x))), C → 4C → C.
public final class FeedForward<Scalar: TensorScalar>: Module<Scalar> {
  /// C → hidden.
  public let c_fc: Linear<Scalar>
  /// hidden → C.
  public let c_proj: Linear<Scalar>
  /// The GELU form: exact (nanoGPT's `nn.GELU()`) or tanh (GPT-2's).
  public let approximation: GELUApproximation

  /// A network of `width` → `hidden` (4·width in GPT) → `width`, initialised by `initialization`.
  public init<G: RandomNumberGenerator>(
    width: Int, hidden: Int, bias: Bool = true, approximation: GELUApproximation = .none,
    initialization: GPTInitialization, using generator: inout G
  ) {
    self.approximation = approximation
    c_fc = initialization.linear(inputs: width, outputs: hidden, bias: bias, using: &generator)
    c_proj = initialization.linear(inputs: hidden, outputs: width, bias: bias, residual: true, using: &generator)
    super.init()
    register("c_fc", c_fc)
    register("c_proj", c_proj)
  }

  /// `[…, C]` → `[…, C]`.
  public override func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    c_proj(c_fc(x).gelu(approximate: approximation))
  }
}

/// A pre-norm transformer block, nanoGPT's `Block`:
///
///     x ← x + attn(ln_1(x)),  x ← x + mlp(ln_2(x))
public final class TransformerBlock<Scalar: TensorScalar>: Module<Scalar> {
  /// The layer norm before attention.
  public let ln_1: LayerNorm<Scalar>
  /// Causal self-attention.
  public let attn: CausalSelfAttention<Scalar>
  /// The layer norm before the MLP.
  public let ln_2: LayerNorm<Scalar>
  /// The MLP: Linear, GELU, Linear.
  public let mlp: FeedForward<Scalar>

  /// A block of `width` channels and `heads` heads with a 4·width GELU feed-forward network.
  public init<G: RandomNumberGenerator>(
    width: Int, heads: Int, bias: Bool = true, approximation: GELUApproximation = .none,
    initialization: GPTInitialization, using generator: inout G
  ) {
    ln_1 = LayerNorm(dimensions: width, bias: bias)
    attn = CausalSelfAttention(
      width: width, heads: heads, bias: bias, initialization: initialization, using: &generator)
    ln_2 = LayerNorm(dimensions: width, bias: bias)
    mlp = FeedForward(
      width: width, hidden: 4 * width, bias: bias, approximation: approximation,
      initialization: initialization, using: &generator)
    super.init()
    register("ln_1", ln_1)
    register("attn", attn)
    register("ln_2", ln_2)
    register("mlp", mlp)
  }

  /// `[B, T, C]` → `[B, T, C]`.
  public override func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    let y = x + attn(ln_1(x))
    return y + mlp(ln_2(y))
  }
}

extension CausalSelfAttention: ModuleHyperparameters {
  /// `heads=4`.
  public var extraDescription: String { "heads=\(heads)" }
}

extension FeedForward: ModuleHyperparameters {
  /// `gelu='tanh'` or `gelu='none'`.
  public var extraDescription: String { "gelu='\(approximation == .tanh ? "tanh" : "none")'" }
}
