import Awesomegrad
import AwesomegradModels
import Foundation

/// char-lm's model files: a safetensors file with the GPT's state dict under nanoGPT's names
/// (`transformer.wte.weight`, `transformer.h.0.attn.c_attn.weight`, …, `lm_head.weight`), F32.
///
/// A tied model writes `lm_head.weight` next to `transformer.wte.weight` (the same values), as
/// PyTorch's `state_dict()` does, so nanoGPT's `GPT.load_state_dict(safetensors.torch.load_file(f))`
/// takes the file; a file with only one of the two names loads into a tied model too. The metadata
/// holds nanoGPT's `model_args` (`n_layer`, `n_head`, `n_embd`, `block_size`, `vocab_size`, `bias`)
/// and char-lm's own `gelu`, `tied` and `vocabulary` (the token bytes, comma-separated).
enum GPTCheckpoint {
  /// Writes `model` and the vocabulary to `path` (atomically).
  static func save(_ model: GPT<Float>, vocabulary: [UInt8], to path: String) throws {
    let c = model.configuration
    var tensors = model.stateTensors()
    if c.tiesWeights { tensors["lm_head.weight"] = model.lm_head.weight }
    let metadata = [
      "format": "char-lm", "n_layer": "\(c.layers)", "n_head": "\(c.heads)", "n_embd": "\(c.width)",
      "block_size": "\(c.contextLength)", "vocab_size": "\(c.vocabularySize)",
      "bias": c.bias ? "True" : "False", "tied": c.tiesWeights ? "True" : "False",
      "gelu": c.gelu == .tanh ? "tanh" : "exact",
      "vocabulary": vocabulary.map(String.init).joined(separator: ","),
    ]
    try saveSafeTensors(tensors, metadata: metadata, to: path)
  }

  /// A model file read back: the configuration it implies, its tensors ready for
  /// ``Module/loadStateDict(_:strict:)``, and the vocabulary when the file names one.
  struct Loaded {
    var configuration: GPTConfiguration
    var tensors: [String: Tensor<Float>]
    var vocabulary: [UInt8]?
  }

  /// Reads `path`. The sizes come from the tensors' shapes (`transformer.wte.weight` [V, C],
  /// `transformer.wpe.weight` [T, C], the highest `transformer.h.N`), biases from the presence of
  /// `transformer.ln_f.bias`; the head count, GELU form and tying from the metadata, or else from
  /// `fallback` (the command line), as nanoGPT files carry no metadata.
  static func load(_ path: String, fallback: GPTConfiguration) throws -> Loaded {
    let file = try SafeTensorsFile(contentsOf: path)
    var tensors: [String: Tensor<Float>] = [:]
    for name in file.names { tensors[name] = try file.tensor(name, as: Float.self) }
    let embedding = tensors["transformer.wte.weight"] ?? tensors["lm_head.weight"]
    guard let embedding, embedding.rank == 2, let positions = tensors["transformer.wpe.weight"],
      positions.rank == 2
    else {
      throw CharLMCheckpointError(
        "\(path) is not a GPT state dict: it needs transformer.wte.weight (or lm_head.weight) and "
          + "transformer.wpe.weight, as nanoGPT's and char-lm --save's files have")
    }
    let layers =
      file.names.compactMap { name -> Int? in
        let parts = name.split(separator: ".")
        return parts.count > 3 && parts[0] == "transformer" && parts[1] == "h" ? Int(parts[2]) : nil
      }.max().map { $0 + 1 } ?? 0
    let metadata = file.metadata
    let tied: Bool
    if let value = metadata["tied"] {
      tied = value == "True"
    } else if let wte = tensors["transformer.wte.weight"], let head = tensors["lm_head.weight"] {
      tied = wte.scalars == head.scalars
    } else {
      tied = fallback.tiesWeights
    }
    let gelu: GELUApproximation
    switch metadata["gelu"] {
    case "tanh": gelu = .tanh
    case "exact": gelu = .none
    default: gelu = fallback.gelu
    }
    let configuration = GPTConfiguration(
      vocabularySize: embedding.shape[0], contextLength: positions.shape[0], layers: layers,
      heads: metadata["n_head"].flatMap { Int($0) } ?? fallback.heads, width: embedding.shape[1],
      bias: tensors["transformer.ln_f.bias"] != nil, tiesWeights: tied, gelu: gelu)
    guard configuration.vocabularySize >= 1, configuration.contextLength >= 1, configuration.width >= 1,
      layers >= 1
    else {
      throw CharLMCheckpointError(
        "\(path) holds an empty model: embedding \(embedding.shape), positions \(positions.shape), "
          + "\(layers) blocks")
    }
    guard configuration.heads >= 1, configuration.width % configuration.heads == 0 else {
      throw CharLMCheckpointError(
        "\(path): \(configuration.heads) heads do not divide the width \(configuration.width); "
          + "pass --heads to match the file")
    }
    if tied {
      // One tensor under either name (both when the file came from PyTorch's state_dict()).
      if let head = tensors.removeValue(forKey: "lm_head.weight") {
        if let wte = tensors["transformer.wte.weight"], wte.scalars != head.scalars {
          throw CharLMCheckpointError(
            "\(path): lm_head.weight differs from transformer.wte.weight, so the model is untied; "
              + "pass --no-tied")
        }
        if tensors["transformer.wte.weight"] == nil { tensors["transformer.wte.weight"] = head }
      }
    }
    var vocabulary: [UInt8]?
    if let text = metadata["vocabulary"] {
      let bytes = text.split(separator: ",").compactMap { UInt8($0) }
      guard bytes.count == configuration.vocabularySize else {
        throw CharLMCheckpointError(
          "\(path): the metadata's vocabulary has \(bytes.count) bytes but the embedding "
            + "\(configuration.vocabularySize) rows")
      }
      vocabulary = bytes
    }
    return Loaded(configuration: configuration, tensors: tensors, vocabulary: vocabulary)
  }
}

/// A model file that does not fit char-lm, with what to do about it.
struct CharLMCheckpointError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
