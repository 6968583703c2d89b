import Foundation

/// Reading `tokenizer.json`. What is read:
///
/// - `model`: `type` must be `BPE`; `vocab` {token: id}; `merges` as pairs `[["Ġ", "t"], ...]`
///   (tokenizers ≥ 0.20) or strings `"Ġ t"` (older files and most of the Hub); `unk_token`,
///   `fuse_unk`, `ignore_merges`. `dropout`, `continuing_subword_prefix`, `end_of_word_suffix`
///   and `byte_fallback` must be off: they would change the ids.
/// - `pre_tokenizer`: `ByteLevel` (`add_prefix_space`, `use_regex`), or a `Sequence` holding only that.
/// - `normalizer`: none.
/// - `decoder`: `ByteLevel` or none.
/// - `added_tokens`: `id`, `content`, `special`, `single_word`, `lstrip`, `rstrip`.
///
/// The post-processor only adds special tokens around an encoding (or changes offsets), which
/// ``BPETokenizer/encode(_:)`` never does, so it is not read.
extension BPETokenizer {
  /// Reads the `tokenizer.json` at `path`.
  ///
  /// - Throws: ``FileFormatError`` naming the file and the field: the file is missing or not JSON, a
  ///   field is missing or of the wrong type, a merge names a token outside the vocabulary, or the
  ///   tokenizer is of a kind this library does not implement (a WordPiece or Unigram model, a
  ///   Metaspace pre-tokenizer, a normalizer).
  public init(contentsOf path: String) throws(FileFormatError) {
    let data: Data
    do {
      data = try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
      throw .unreadable(path: path, reason: (error as NSError).localizedDescription)
    }
    try self.init(json: data, path: path)
  }

  /// Reads a `tokenizer.json` from its bytes; `path` names it in errors.
  public init(json data: Data, path: String = "tokenizer.json") throws(FileFormatError) {
    let root = try JSONField(parsing: data, file: path)
    _ = try root.members()  // the document must be an object

    // The model.
    let model = try root.required("model")
    let type = try model.optional("type")?.string() ?? "BPE"
    guard type == "BPE" else {
      throw .unsupported(path: path, field: "model.type", value: type, supported: "BPE")
    }
    if let dropout = try model.optional("dropout"), try dropout.number() != 0 {
      throw .unsupported(
        path: path, field: "model.dropout", value: "\(try dropout.number())", supported: "null or 0")
    }
    for field in ["continuing_subword_prefix", "end_of_word_suffix"] {
      if let value = try model.optional(field), try !value.string().isEmpty {
        throw .unsupported(
          path: path, field: "model.\(field)", value: "\"\(try value.string())\"", supported: "null")
      }
    }
    if let fallback = try model.optional("byte_fallback"), try fallback.bool() {
      throw .unsupported(path: path, field: "model.byte_fallback", value: "true", supported: "false")
    }
    var vocabulary: [String: Int] = [:]
    var tokenOfID: [Int: String] = [:]
    for (token, field) in try model.required("vocab").members() {
      let id = try field.integer()
      guard (0...Int(Int32.max)).contains(id) else { throw field.invalid("the id \(id) is negative or too large") }
      if let other = tokenOfID[id] {
        throw field.invalid("the id \(id) is also the id of \(debugText(other))")
      }
      vocabulary[token] = id
      tokenOfID[id] = token
    }
    var merges: [(left: Int, right: Int, merged: Int)] = []
    for field in try model.optional("merges")?.elements() ?? [] {
      let (left, right) = try mergePair(field)
      guard let l = vocabulary[left], let r = vocabulary[right] else {
        throw field.invalid("\(debugText(vocabulary[left] == nil ? left : right)) is not in model.vocab")
      }
      guard let merged = vocabulary[left + right] else {
        throw field.invalid("the merged token \(debugText(left + right)) is not in model.vocab")
      }
      merges.append((l, r, merged))
    }
    var unknownID: Int? = nil
    if let unknown = try model.optional("unk_token") {
      let token = try unknown.string()
      guard let id = vocabulary[token] else { throw unknown.invalid("\(debugText(token)) is not in model.vocab") }
      unknownID = id
    }
    let fusesUnknown = try model.optional("fuse_unk")?.bool() ?? false
    let ignoresMerges = try model.optional("ignore_merges")?.bool() ?? false

    // The normalizer, pre-tokenizer and decoder.
    if let normalizer = try root.optional("normalizer") {
      throw .unsupported(
        path: path, field: "normalizer", value: (try? normalizer.required("type").string()) ?? normalizer.kind,
        supported: "null")
    }
    var (addsPrefixSpace, usesRegex) = (false, true)
    guard let preTokenizer = try root.optional("pre_tokenizer") else {
      throw .unsupported(path: path, field: "pre_tokenizer", value: "null", supported: "ByteLevel")
    }
    var byteLevel = preTokenizer
    if try preTokenizer.required("type").string() == "Sequence" {
      let steps = try preTokenizer.required("pretokenizers").elements()
      guard steps.count == 1 else {
        throw .unsupported(
          path: path, field: "pre_tokenizer.pretokenizers",
          value: "a sequence of \(steps.count) pre-tokenizers", supported: "one ByteLevel")
      }
      byteLevel = steps[0]
    }
    let kind = try byteLevel.required("type")
    guard try kind.string() == "ByteLevel" else {
      throw .unsupported(path: path, field: kind.fieldName, value: try kind.string(), supported: "ByteLevel")
    }
    addsPrefixSpace = try byteLevel.optional("add_prefix_space")?.bool() ?? false
    usesRegex = try byteLevel.optional("use_regex")?.bool() ?? true
    if let decoder = try root.optional("decoder") {
      let kind = try decoder.required("type")
      guard try kind.string() == "ByteLevel" else {
        throw .unsupported(path: path, field: kind.fieldName, value: try kind.string(), supported: "ByteLevel")
      }
    }

    // The added tokens.
    var addedTokens: [AddedToken] = []
    for field in try root.optional("added_tokens")?.elements() ?? [] {
      let id = try field.required("id").integer()
      guard (0...Int(Int32.max)).contains(id) else {
        throw field.invalid("the id \(id) is negative or too large")
      }
      let content = try field.required("content").string()
      guard !content.isEmpty else { throw field.invalid("the content is empty") }
      addedTokens.append(
        AddedToken(
          id: id, content: content, isSpecial: try field.optional("special")?.bool() ?? false,
          singleWord: try field.optional("single_word")?.bool() ?? false,
          leftStrip: try field.optional("lstrip")?.bool() ?? false,
          rightStrip: try field.optional("rstrip")?.bool() ?? false))
    }
    self.init(
      path: path, json: data, vocabulary: vocabulary, tokenOfID: tokenOfID, addedTokens: addedTokens,
      merges: BPEMerges(merges), unknownID: unknownID, fusesUnknown: fusesUnknown, ignoresMerges: ignoresMerges,
      addsPrefixSpace: addsPrefixSpace, usesRegex: usesRegex)
  }
}

/// One merge: a pair `["a", "b"]` or a string `"a b"` (split at its one space).
private func mergePair(_ field: JSONField) throws(FileFormatError) -> (String, String) {
  if let text = field.value as? String {
    let parts = text.split(separator: " ", omittingEmptySubsequences: false)
    guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
      throw field.invalid("a merge written as a string must be two tokens separated by one space, found \(debugText(text))")
    }
    return (String(parts[0]), String(parts[1]))
  }
  let parts = try field.elements()
  guard parts.count == 2 else { throw field.invalid("a merge must be a pair of tokens, found \(parts.count) elements") }
  return (try parts[0].string(), try parts[1].string())
}

/// `text` quoted for a one-line message, control characters escaped.
func debugText(_ text: String) -> String {
  var out = "\""
  for scalar in text.unicodeScalars.prefix(80) {
    switch scalar {
    case "\"": out += "\\\""
    case "\\": out += "\\\\"
    case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value):
      out += "\\u{" + String(scalar.value, radix: 16) + "}"
    default: out.unicodeScalars.append(scalar)
    }
  }
  return out + (text.unicodeScalars.count > 80 ? "…\"" : "\"")
}
