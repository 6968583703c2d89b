import Awesomegrad
import AwesomegradTokenizers
import Foundation

/// Loads the model in the Hugging Face folder `directory`, as `AutoModelForCausalLM.from_pretrained`
/// does: `config.json` says the architecture (GPT-2 or Llama) and its sizes; the weights come from
/// `model.safetensors` or the shards of `model.safetensors.index.json`, memory-mapped, with their
/// Hugging Face names, F32, F16 or BF16 converted to Float.
///
/// Loading is strict about names and shapes: every tensor the configuration implies must be there
/// with that shape (a checkpoint without the base prefix, `h.0…` for `transformer.h.0…`, is read as
/// `transformers` reads it), and, with `strict`, nothing else may be, except the buffers
/// `transformers` ignores (GPT-2's `attn.bias`/`attn.masked_bias`, Llama's `rotary_emb.inv_freq`).
/// A tied model's file has no `lm_head.weight`; if it has one that differs from the embedding, the
/// head is untied, as `transformers` 5 does.
///
/// - Parameters:
///   - directory: the folder `save_pretrained` wrote.
///   - strict: refuse tensors the model does not have (they are never used either way).
/// - Returns: a ``GPT2LanguageModel`` or a ``LlamaLanguageModel``.
/// - Throws: ``ModelError`` (a missing file, missing or unexpected tensors, a shape that disagrees
///   with the configuration), `FileFormatError` (a `config.json` or index that is not what it should
///   be, an unsupported architecture or option) or `CheckpointError` (a malformed safetensors file).
public func loadCausalLanguageModel(from directory: String, strict: Bool = true) throws -> any CausalLanguageModel {
  let configPath = directory + "/config.json"
  guard FileManager.default.fileExists(atPath: configPath) else {
    throw ModelError.missingFile(
      path: configPath, expected: "a model folder holds config.json, the configuration save_pretrained writes")
  }
  var configuration = try ModelConfiguration(contentsOf: configPath)
  let checkpoint = try CheckpointTensors(directory: directory)
  // A tied head with its own lm_head.weight in the file: transformers 5 keeps the file's head if it
  // differs from the embedding.
  let embeddingName: String
  switch configuration.architecture {
  case .gpt2: embeddingName = "transformer.wte.weight"
  case .llama: embeddingName = "model.embed_tokens.weight"
  }
  var ignoresHead = false
  if checkpoint.entry("lm_head.weight") != nil, checkpoint.entry(embeddingName) != nil {
    switch configuration.architecture {
    case .gpt2(var sizes) where sizes.tiesWordEmbeddings:
      if try differ("lm_head.weight", embeddingName, in: checkpoint) {
        sizes.tiesWordEmbeddings = false
        configuration.architecture = .gpt2(sizes)
      } else {
        ignoresHead = true
      }
    case .llama(var sizes) where sizes.tiesWordEmbeddings:
      if try differ("lm_head.weight", embeddingName, in: checkpoint) {
        sizes.tiesWordEmbeddings = false
        configuration.architecture = .llama(sizes)
      } else {
        ignoresHead = true
      }
    default: break
    }
  }
  switch configuration.architecture {
  case .gpt2(let sizes):
    let tensors = try decode(
      GPT2LanguageModel.specifications(sizes), from: checkpoint, basePrefix: "transformer.", strict: strict
    ) { name in
      (ignoresHead && name == "lm_head.weight") || name.hasSuffix(".attn.bias") || name.hasSuffix(".attn.masked_bias")
    }
    return GPT2LanguageModel(configuration: configuration, sizes: sizes, tensors: tensors)
  case .llama(let sizes):
    let tensors = try decode(
      LlamaLanguageModel.specifications(sizes), from: checkpoint, basePrefix: "model.", strict: strict
    ) { name in
      (ignoresHead && name == "lm_head.weight") || name.hasSuffix(".rotary_emb.inv_freq")
    }
    return LlamaLanguageModel(configuration: configuration, sizes: sizes, tensors: tensors)
  }
}

/// Checks the specifications against the checkpoint, then decodes each tensor (as a leaf, by the
/// specification's name).
private func decode(
  _ specifications: [TensorSpecification], from checkpoint: CheckpointTensors, basePrefix: String, strict: Bool,
  ignored: (String) -> Bool
) throws -> [String: Tensor<Float>] {
  let (names, _) = try checkpoint.match(specifications, basePrefix: basePrefix, strict: strict, ignored: ignored)
  var tensors: [String: Tensor<Float>] = [:]
  for (spec, name) in zip(specifications, names) { tensors[spec.name] = try checkpoint.decode(name) }
  return tensors
}

/// Whether two tensors of the checkpoint differ in shape or in any value.
private func differ(_ a: String, _ b: String, in checkpoint: CheckpointTensors) throws -> Bool {
  guard checkpoint.entry(a)?.shape == checkpoint.entry(b)?.shape else { return true }
  return try checkpoint.decode(a).scalars != checkpoint.decode(b).scalars
}
