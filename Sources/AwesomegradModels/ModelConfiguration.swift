import Awesomegrad
import AwesomegradTokenizers
import Foundation

/// The sizes and options of a GPT-2 (`GPT2LMHeadModel`), read from `config.json` with its real field
/// names.
public struct GPT2Configuration: Sendable, Equatable {
  /// `vocab_size`: the rows of `wte`.
  public var vocabularySize: Int
  /// `n_positions`: the rows of `wpe`, the longest sequence.
  public var contextLength: Int
  /// `n_embd`: the channels of the residual stream.
  public var width: Int
  /// `n_layer`: the number of blocks.
  public var layers: Int
  /// `n_head`: the number of attention heads; divides `width`.
  public var heads: Int
  /// `n_inner`: the hidden width of the MLP (4·`width` when null).
  public var innerWidth: Int
  /// `layer_norm_epsilon`.
  public var layerNormEpsilon: Double
  /// `activation_function`: `gelu_new` and `gelu_pytorch_tanh` are GELU's tanh form, `gelu` the exact one.
  public var activation: GELUApproximation
  /// `tie_word_embeddings` (default true): the LM head is `wte`'s weight.
  public var tiesWordEmbeddings: Bool
  /// `initializer_range`: the standard deviation of freshly drawn weights.
  public var initializerRange: Double

  /// A configuration; the defaults are GPT-2 small's (124M parameters).
  public init(
    vocabularySize: Int = 50257, contextLength: Int = 1024, width: Int = 768, layers: Int = 12, heads: Int = 12,
    innerWidth: Int? = nil, layerNormEpsilon: Double = 1e-5, activation: GELUApproximation = .tanh,
    tiesWordEmbeddings: Bool = true, initializerRange: Double = 0.02
  ) {
    self.vocabularySize = vocabularySize
    self.contextLength = contextLength
    self.width = width
    self.layers = layers
    self.heads = heads
    self.innerWidth = innerWidth ?? 4 * width
    self.layerNormEpsilon = layerNormEpsilon
    self.activation = activation
    self.tiesWordEmbeddings = tiesWordEmbeddings
    self.initializerRange = initializerRange
  }
}

/// The sizes and options of a Llama (`LlamaForCausalLM`), read from `config.json` with its real field
/// names.
public struct LlamaConfiguration: Sendable, Equatable {
  /// `vocab_size`.
  public var vocabularySize: Int
  /// `hidden_size`: the channels of the residual stream.
  public var width: Int
  /// `intermediate_size`: the hidden width of the SwiGLU MLP.
  public var intermediateSize: Int
  /// `num_hidden_layers`.
  public var layers: Int
  /// `num_attention_heads`: query heads.
  public var heads: Int
  /// `num_key_value_heads` (default `num_attention_heads`): key/value heads, dividing `heads`; query
  /// head h reads key/value head h / (heads / keyValueHeads).
  public var keyValueHeads: Int
  /// `head_dim` (default `hidden_size / num_attention_heads`); even, for the rotary embedding.
  public var headDimension: Int
  /// `max_position_embeddings`: the longest sequence.
  public var contextLength: Int
  /// `rms_norm_eps`.
  public var rmsNormEpsilon: Double
  /// The rotary base θ: `rope_parameters.rope_theta` (transformers 5) or the top-level `rope_theta`
  /// (transformers 4); 10000 when neither is given.
  public var ropeTheta: Double
  /// `attention_bias`: whether q, k, v and o projections have biases.
  public var attentionBias: Bool
  /// `mlp_bias`: whether the MLP's projections have biases.
  public var mlpBias: Bool
  /// `tie_word_embeddings` (default false): the LM head is `embed_tokens`' weight.
  public var tiesWordEmbeddings: Bool
  /// `initializer_range`.
  public var initializerRange: Double

  /// A configuration; the sizes have no defaults, the options are Llama's.
  public init(
    vocabularySize: Int, width: Int, intermediateSize: Int, layers: Int, heads: Int, keyValueHeads: Int? = nil,
    headDimension: Int? = nil, contextLength: Int, rmsNormEpsilon: Double = 1e-6, ropeTheta: Double = 10000,
    attentionBias: Bool = false, mlpBias: Bool = false, tiesWordEmbeddings: Bool = false,
    initializerRange: Double = 0.02
  ) {
    self.vocabularySize = vocabularySize
    self.width = width
    self.intermediateSize = intermediateSize
    self.layers = layers
    self.heads = heads
    self.keyValueHeads = keyValueHeads ?? heads
    self.headDimension = headDimension ?? (heads > 0 ? width / heads : 0)
    self.contextLength = contextLength
    self.rmsNormEpsilon = rmsNormEpsilon
    self.ropeTheta = ropeTheta
    self.attentionBias = attentionBias
    self.mlpBias = mlpBias
    self.tiesWordEmbeddings = tiesWordEmbeddings
    self.initializerRange = initializerRange
  }
}

/// A model folder's `config.json`: which architecture with which sizes, and the token ids
/// generation needs.
public struct ModelConfiguration: Sendable, Equatable {
  /// The architecture families this library implements.
  public enum Architecture: Sendable, Equatable {
    /// `model_type` `gpt2`, `GPT2LMHeadModel`.
    case gpt2(GPT2Configuration)
    /// `model_type` `llama`, `LlamaForCausalLM`.
    case llama(LlamaConfiguration)
  }

  /// The architecture and its sizes.
  public var architecture: Architecture
  /// `eos_token_id` (a number or a list): generation stops at any of them.
  public var eosTokenIDs: [Int]
  /// `bos_token_id`.
  public var bosTokenID: Int?
  /// `pad_token_id`.
  public var padTokenID: Int?
  /// The `config.json` this was read from, if any: ``jsonData()`` keeps its other fields.
  public var json: Data?

  /// A configuration of `architecture` with the given special ids.
  public init(
    _ architecture: Architecture, eosTokenIDs: [Int] = [], bosTokenID: Int? = nil, padTokenID: Int? = nil
  ) {
    self.architecture = architecture
    self.eosTokenIDs = eosTokenIDs
    self.bosTokenID = bosTokenID
    self.padTokenID = padTokenID
  }

  /// The number of distinct tokens.
  public var vocabularySize: Int {
    switch architecture {
    case .gpt2(let c): c.vocabularySize
    case .llama(let c): c.vocabularySize
    }
  }

  /// The longest sequence the model reads.
  public var contextLength: Int {
    switch architecture {
    case .gpt2(let c): c.contextLength
    case .llama(let c): c.contextLength
    }
  }

  /// The `model_type` name.
  public var modelType: String {
    switch architecture {
    case .gpt2: "gpt2"
    case .llama: "llama"
    }
  }
}
