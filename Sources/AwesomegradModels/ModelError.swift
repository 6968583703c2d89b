/// What is wrong with a model folder's weights, beyond the format of its files (a malformed
/// safetensors file is a `CheckpointError`, a malformed JSON file a `FileFormatError`).
///
/// Every case names the file; ``description`` is one line a tool can print as is.
public enum ModelError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A file the folder must hold is absent (`config.json`; `model.safetensors` or
  /// `model.safetensors.index.json`).
  case missingFile(path: String, expected: String)
  /// A tensor's shape differs from the one the configuration implies (`fields` names the config fields
  /// the expected shape comes from, e.g. `[vocab_size, n_embd]`).
  case shapeMismatch(file: String, tensor: String, expected: [Int], found: [Int], fields: String)
  /// Tensors the model needs are not in the checkpoint.
  case missingTensors(file: String, names: [String])
  /// The checkpoint holds tensors the model does not have (only with `strict` loading).
  case unexpectedTensors(file: String, names: [String])
  /// The shard index names a tensor its shard file does not hold, or a shard outside the folder.
  case invalidIndex(file: String, reason: String)

  /// One line naming the file and the problem.
  public var description: String {
    switch self {
    case .missingFile(let path, let expected): "\(path) does not exist: \(expected)"
    case .shapeMismatch(let file, let tensor, let expected, let found, let fields):
      "\(file): tensor \"\(tensor)\" has shape \(found), but config.json implies \(expected) (\(fields))"
    case .missingTensors(let file, let names):
      "\(file): missing tensor(s) the model needs: \(names.joined(separator: ", "))"
    case .unexpectedTensors(let file, let names):
      "\(file): unexpected tensor(s) the model does not have: \(names.joined(separator: ", "))"
    case .invalidIndex(let file, let reason): "\(file): \(reason)"
    }
  }
}
