/// What is wrong with a JSON file of a model folder: `tokenizer.json`, `config.json`,
/// `model.safetensors.index.json`.
///
/// Every case names the file, and the field as a dotted JSON path (`model.type`,
/// `model.merges[12]`, `rope_parameters.rope_type`); ``description`` is one line a tool can print.
public enum FileFormatError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The file does not exist or cannot be read.
  case unreadable(path: String, reason: String)
  /// The file is not JSON (or a text file is not UTF-8).
  case malformed(path: String, reason: String)
  /// A field that is needed is absent.
  case missingField(path: String, field: String)
  /// A field has the wrong JSON type or an impossible value (`reason` says which).
  case invalidField(path: String, field: String, reason: String)
  /// A field holds a value this library does not implement, so the result would silently differ
  /// from the reference: a tokenizer model other than `BPE`, a pre-tokenizer other than
  /// `ByteLevel`, an unknown architecture, a rope scaling type.
  case unsupported(path: String, field: String, value: String, supported: String)

  /// One line: the file, the field and what is wrong.
  public var description: String {
    switch self {
    case .unreadable(let path, let reason): "\(path): cannot read the file: \(reason)"
    case .malformed(let path, let reason): "\(path): \(reason)"
    case .missingField(let path, let field): "\(path): the field \(field) is missing"
    case .invalidField(let path, let field, let reason): "\(path): \(field): \(reason)"
    case .unsupported(let path, let field, let value, let supported):
      "\(path): \(field) is \(value), which is not supported (supported: \(supported))"
    }
  }
}

/// Why ids could not be decoded.
public enum TokenizerError: Error, Equatable, Sendable, CustomStringConvertible {
  /// An id that is neither in the vocabulary nor an added token.
  case unknownID(Int)

  /// One line naming the id.
  public var description: String {
    switch self {
    case .unknownID(let id): "token id \(id) is neither in the vocabulary nor an added token"
    }
  }
}
