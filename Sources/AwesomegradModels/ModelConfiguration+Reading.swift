import Awesomegrad
import AwesomegradTokenizers
import Foundation

/// Reading `config.json` (and `generation_config.json`) with the field names `transformers` writes.
///
/// Every value that would build a different model than `transformers` builds is refused by name
/// (``FileFormatError/unsupported(path:field:value:supported:)``): an architecture other than GPT-2
/// and Llama, a rope scaling type other than `default`, an activation other than GELU (GPT-2) or
/// SiLU (Llama), GPT-2's cross-attention or per-layer attention scaling. Sizes must be positive and
/// consistent (heads divide the width, key/value heads divide the heads).
extension ModelConfiguration {
  /// The largest size accepted for any dimension, so that a corrupt file cannot ask for an
  /// impossible allocation before its tensors are checked.
  static let maximumDimension = 1 << 24
  /// The most layers accepted (the largest published models have a few hundred), so that a corrupt
  /// file cannot make the list of tensors to check enormous.
  static let maximumLayers = 4096

  /// Reads `config.json` at `path`, and `generation_config.json` beside it when present (its
  /// `eos_token_id` wins, as in `transformers`' `generate`).
  public init(contentsOf path: String) throws(FileFormatError) {
    let data = try readFile(path)
    try self.init(json: data, path: path)
    let generationPath = (path as NSString).deletingLastPathComponent + "/generation_config.json"
    if FileManager.default.fileExists(atPath: generationPath) {
      let generation = try JSONField(parsing: try readFile(generationPath), file: generationPath)
      if let eos = try generation.optional("eos_token_id") { eosTokenIDs = try tokenIDs(eos) }
    }
  }

  /// Reads a `config.json` from its bytes; `path` names it in errors.
  public init(json data: Data, path: String = "config.json") throws(FileFormatError) {
    let root = try JSONField(parsing: data, file: path)
    _ = try root.members()
    var type = try root.optional("model_type")?.string()
    if type == nil, let architectures = try root.optional("architectures")?.elements(), let first = architectures.first {
      switch try first.string() {
      case "GPT2LMHeadModel", "GPT2Model": type = "gpt2"
      case "LlamaForCausalLM", "LlamaModel": type = "llama"
      case let other: type = other
      }
    }
    guard let type else { throw .missingField(path: path, field: "model_type") }
    let architecture: Architecture
    switch type {
    case "gpt2": architecture = .gpt2(try GPT2Configuration(root))
    case "llama": architecture = .llama(try LlamaConfiguration(root))
    default:
      throw .unsupported(path: path, field: "model_type", value: type, supported: "gpt2, llama")
    }
    self.init(
      architecture,
      eosTokenIDs: try root.optional("eos_token_id").map { (f) throws(FileFormatError) in try tokenIDs(f) } ?? [],
      bosTokenID: try root.optional("bos_token_id").map { (f) throws(FileFormatError) in try f.integer() },
      padTokenID: try root.optional("pad_token_id").map { (f) throws(FileFormatError) in try f.integer() })
    json = data
  }
}

extension GPT2Configuration {
  init(_ root: JSONField) throws(FileFormatError) {
    let width = try size(root, "n_embd", default: 768)
    let heads = try size(root, "n_head", default: 12)
    guard width % heads == 0 else {
      throw root.invalid("n_head (\(heads)) must divide n_embd (\(width))")
    }
    let activation: GELUApproximation
    let name = try root.optional("activation_function")?.string() ?? "gelu_new"
    switch name {
    case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": activation = .tanh
    case "gelu": activation = .none
    default:
      throw .unsupported(
        path: root.file, field: "activation_function", value: name, supported: "gelu_new, gelu_pytorch_tanh, gelu")
    }
    try refuse(root, "add_cross_attention", ifNot: false)
    try refuse(root, "scale_attn_by_inverse_layer_idx", ifNot: false)
    try refuse(root, "scale_attn_weights", ifNot: true)
    self.init(
      vocabularySize: try size(root, "vocab_size", default: 50257),
      contextLength: try size(root, "n_positions", default: 1024), width: width,
      layers: try layerCount(root, "n_layer", default: 12), heads: heads,
      innerWidth: try root.optional("n_inner") == nil ? nil : try size(root, "n_inner", default: 4 * width),
      layerNormEpsilon: try positive(root, "layer_norm_epsilon", default: 1e-5), activation: activation,
      tiesWordEmbeddings: try root.optional("tie_word_embeddings")?.bool() ?? true,
      initializerRange: try positive(root, "initializer_range", default: 0.02))
  }
}

extension LlamaConfiguration {
  init(_ root: JSONField) throws(FileFormatError) {
    let width = try size(root, "hidden_size", default: nil)
    let heads = try size(root, "num_attention_heads", default: nil)
    let keyValueHeads = try size(root, "num_key_value_heads", default: heads)
    guard heads % keyValueHeads == 0 else {
      throw root.invalid("num_key_value_heads (\(keyValueHeads)) must divide num_attention_heads (\(heads))")
    }
    let headDimension: Int
    if try root.optional("head_dim") != nil {
      headDimension = try size(root, "head_dim", default: nil)
    } else {
      guard width % heads == 0 else {
        throw root.invalid("num_attention_heads (\(heads)) must divide hidden_size (\(width)) when head_dim is absent")
      }
      headDimension = width / heads
    }
    guard headDimension % 2 == 0 else {
      throw root.invalid("the head dimension (\(headDimension)) must be even for the rotary embedding")
    }
    let activation = try root.optional("hidden_act")?.string() ?? "silu"
    guard activation == "silu" || activation == "swish" else {
      throw .unsupported(path: root.file, field: "hidden_act", value: activation, supported: "silu")
    }
    // The rotary embedding: transformers 5 writes rope_parameters {rope_type, rope_theta};
    // transformers 4 a top-level rope_theta and rope_scaling (null or {type/rope_type, factor, ...}).
    var theta = try positive(root, "rope_theta", default: 10000)
    for field in ["rope_parameters", "rope_scaling"] {
      guard let parameters = try root.optional(field) else { continue }
      var kind = try parameters.optional("rope_type")
      if kind == nil { kind = try parameters.optional("type") }
      if let kind, try kind.string() != "default" {
        throw .unsupported(path: root.file, field: kind.fieldName, value: try kind.string(), supported: "default")
      }
      if let factor = try parameters.optional("partial_rotary_factor"), try factor.number() != 1 {
        throw .unsupported(
          path: root.file, field: factor.fieldName, value: "\(try factor.number())", supported: "1")
      }
      if let value = try parameters.optional("rope_theta") {
        theta = try value.number()
        guard theta > 0 && theta.isFinite else { throw value.invalid("must be a positive number") }
      }
    }
    self.init(
      vocabularySize: try size(root, "vocab_size", default: nil), width: width,
      intermediateSize: try size(root, "intermediate_size", default: nil),
      layers: try layerCount(root, "num_hidden_layers", default: nil), heads: heads, keyValueHeads: keyValueHeads,
      headDimension: headDimension, contextLength: try size(root, "max_position_embeddings", default: 2048),
      rmsNormEpsilon: try positive(root, "rms_norm_eps", default: 1e-6), ropeTheta: theta,
      attentionBias: try root.optional("attention_bias")?.bool() ?? false,
      mlpBias: try root.optional("mlp_bias")?.bool() ?? false,
      tiesWordEmbeddings: try root.optional("tie_word_embeddings")?.bool() ?? false,
      initializerRange: try positive(root, "initializer_range", default: 0.02))
  }
}

// MARK: - Field readers

/// A size field: a whole number in 1...``ModelConfiguration/maximumDimension``; `default` when absent
/// or null (nil: the field is required).
private func size(_ root: JSONField, _ key: String, default value: Int?) throws(FileFormatError) -> Int {
  guard let field = try root.optional(key) else {
    if let value { return value }
    throw .missingField(path: root.file, field: key)
  }
  let n = try field.integer()
  guard (1...ModelConfiguration.maximumDimension).contains(n) else {
    throw field.invalid("must be between 1 and \(ModelConfiguration.maximumDimension), found \(n)")
  }
  return n
}

/// A layer count: a size of at most ``ModelConfiguration/maximumLayers``.
private func layerCount(_ root: JSONField, _ key: String, default value: Int?) throws(FileFormatError) -> Int {
  let n = try size(root, key, default: value)
  guard n <= ModelConfiguration.maximumLayers else {
    throw try root.required(key).invalid("must be at most \(ModelConfiguration.maximumLayers), found \(n)")
  }
  return n
}

/// A positive finite number; `default` when absent or null.
private func positive(_ root: JSONField, _ key: String, default value: Double) throws(FileFormatError) -> Double {
  guard let field = try root.optional(key) else { return value }
  let x = try field.number()
  guard x > 0 && x.isFinite else { throw field.invalid("must be a positive number, found \(x)") }
  return x
}

/// Refuses a boolean option whose value would change the model (absent counts as `expected`).
private func refuse(_ root: JSONField, _ key: String, ifNot expected: Bool) throws(FileFormatError) {
  guard let field = try root.optional(key) else { return }
  let value = try field.bool()
  if value != expected {
    throw .unsupported(path: root.file, field: key, value: "\(value)", supported: "\(expected)")
  }
}

/// A token id field: a number or a list of numbers, each non-negative.
private func tokenIDs(_ field: JSONField) throws(FileFormatError) -> [Int] {
  let items = field.value is [Any] ? try field.elements() : [field]
  var ids: [Int] = []
  for item in items {
    let id = try item.integer()
    guard id >= 0 else { throw item.invalid("a token id must not be negative, found \(id)") }
    ids.append(id)
  }
  return ids
}

/// The bytes of the file at `path`.
func readFile(_ path: String) throws(FileFormatError) -> Data {
  do {
    return try Data(contentsOf: URL(fileURLWithPath: path))
  } catch {
    throw .unreadable(path: path, reason: (error as NSError).localizedDescription)
  }
}
