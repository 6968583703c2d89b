import Awesomegrad
import AwesomegradTokenizers
import Foundation

/// Saving back to the Hugging Face layout, for `transformers`' `from_pretrained` and PEFT's
/// `PeftModel.from_pretrained`.
extension CausalLanguageModel {
  /// Writes the model folder `directory` as `save_pretrained` does: `config.json` (the loaded
  /// configuration's fields, with this model's sizes), `model.safetensors` (F32, every tensor by its
  /// Hugging Face name, a tied head once, metadata `{"format": "pt"}`, which `transformers`
  /// requires) and, when given, the tokenizer's `tokenizer.json` (and the `tokenizer_config.json`
  /// beside it, if there is one). LoRA adapters are merged into the weights written.
  ///
  /// The folder is a `URL` (`Module.save(to:metadata:)` with a path writes one safetensors file of
  /// the state dict instead). It is created if needed; existing files of these names are replaced.
  public func save(to directory: URL, tokenizer: BPETokenizer? = nil) throws {
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    try configuration.jsonData().write(to: directory.appendingPathComponent("config.json"), options: .atomic)
    var tensors: [String: SafeTensorsWritable] = [:]
    for (name, tensor) in huggingFaceTensors() { tensors[name] = SafeTensorsWritable(tensor) }
    try writeSafeTensors(
      tensors, metadata: ["format": "pt"], to: directory.appendingPathComponent("model.safetensors").path)
    if let tokenizer {
      try tokenizer.write(to: directory.appendingPathComponent("tokenizer.json").path)
      let companion = URL(fileURLWithPath: tokenizer.path).deletingLastPathComponent()
        .appendingPathComponent("tokenizer_config.json")
      if FileManager.default.fileExists(atPath: companion.path) {
        let data = try Data(contentsOf: companion)
        try data.write(to: directory.appendingPathComponent("tokenizer_config.json"), options: .atomic)
      }
    }
  }

  /// Writes only the LoRA adapters to `directory`, as PEFT's `save_pretrained` does:
  /// `adapter_model.safetensors` (`base_model.model.<projection>.lora_A.weight`, `.lora_B.weight`,
  /// F32) and `adapter_config.json` (`peft_type` LORA, `r`, `lora_alpha`, `target_modules`,
  /// `fan_in_fan_out` for GPT-2's `[in, out]` weights, and `base_model_name_or_path`).
  public func saveAdapters(to directory: URL, baseModel: String) throws {
    let adapted = projections.filter { $0.layer.lora != nil }
    guard let first = adapted.first?.layer.lora else {
      modelArgumentFailure("saveAdapters", "the model has no LoRA adapter", file: #fileID, line: #line)
    }
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    var tensors: [String: SafeTensorsWritable] = [:]
    for (name, tensor) in adapterTensors { tensors[name] = SafeTensorsWritable(tensor) }
    try writeSafeTensors(
      tensors, metadata: ["format": "pt"], to: directory.appendingPathComponent("adapter_model.safetensors").path)
    let targets = Set(adapted.map { String($0.name.split(separator: ".").last!) }).sorted()
    let config: [String: Any] = [
      "peft_type": "LORA", "task_type": "CAUSAL_LM", "base_model_name_or_path": baseModel,
      "r": first.rank, "lora_alpha": first.alpha, "lora_dropout": 0.0, "target_modules": targets,
      "fan_in_fan_out": adapted[0].layer.layout == .inputsByOutputs, "bias": "none", "inference_mode": true,
      "init_lora_weights": true, "use_rslora": false, "modules_to_save": NSNull(),
    ]
    try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
      .write(to: directory.appendingPathComponent("adapter_config.json"), options: .atomic)
  }
}

extension ModelConfiguration {
  /// `config.json` for this configuration: the fields of the file it was read from (if any), with
  /// the architecture's fields, the special ids and the dtype (float32) set from this configuration.
  public func jsonData() throws -> Data {
    var object: [String: Any] = [:]
    if let json, let read = try? JSONSerialization.jsonObject(with: json) as? [String: Any] { object = read }
    switch architecture {
    case .gpt2(let c):
      object["model_type"] = "gpt2"
      object["architectures"] = ["GPT2LMHeadModel"]
      object["vocab_size"] = c.vocabularySize
      object["n_positions"] = c.contextLength
      object["n_embd"] = c.width
      object["n_layer"] = c.layers
      object["n_head"] = c.heads
      object["n_inner"] = c.innerWidth == 4 * c.width ? NSNull() : c.innerWidth as Any
      object["layer_norm_epsilon"] = c.layerNormEpsilon
      let activation = object["activation_function"] as? String
      if c.activation == .tanh && !["gelu_new", "gelu_pytorch_tanh", "gelu_fast"].contains(activation ?? "") {
        object["activation_function"] = "gelu_new"
      } else if c.activation == .none {
        object["activation_function"] = "gelu"
      }
      object["tie_word_embeddings"] = c.tiesWordEmbeddings
      object["initializer_range"] = c.initializerRange
    case .llama(let c):
      object["model_type"] = "llama"
      object["architectures"] = ["LlamaForCausalLM"]
      object["vocab_size"] = c.vocabularySize
      object["hidden_size"] = c.width
      object["intermediate_size"] = c.intermediateSize
      object["num_hidden_layers"] = c.layers
      object["num_attention_heads"] = c.heads
      object["num_key_value_heads"] = c.keyValueHeads
      object["head_dim"] = c.headDimension
      object["max_position_embeddings"] = c.contextLength
      object["rms_norm_eps"] = c.rmsNormEpsilon
      object["hidden_act"] = "silu"
      object["attention_bias"] = c.attentionBias
      object["mlp_bias"] = c.mlpBias
      object["tie_word_embeddings"] = c.tiesWordEmbeddings
      object["initializer_range"] = c.initializerRange
      if var parameters = object["rope_parameters"] as? [String: Any] {
        parameters["rope_theta"] = c.ropeTheta
        parameters["rope_type"] = "default"
        object["rope_parameters"] = parameters
      } else {
        object["rope_theta"] = c.ropeTheta
      }
    }
    object["eos_token_id"] = eosTokenIDs.isEmpty ? NSNull() : (eosTokenIDs.count == 1 ? eosTokenIDs[0] : eosTokenIDs) as Any
    object["bos_token_id"] = bosTokenID.map { $0 as Any } ?? NSNull()
    object["pad_token_id"] = padTokenID.map { $0 as Any } ?? NSNull()
    object["dtype"] = "float32"
    if object["torch_dtype"] != nil { object["torch_dtype"] = "float32" }
    return try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
  }
}
