import Foundation

/// A byte-level BPE tokenizer read from a `tokenizer.json` (the format of Hugging Face's
/// `tokenizers`): GPT-2's, and every tokenizer built the same way.
///
/// Encoding a text, as `tokenizer.encode(text, add_special_tokens=False)` does:
///
/// 1. split the text on the added tokens (`<|endoftext|>`), leftmost and longest first; each
///    occurrence becomes its id and is never merged;
/// 2. split each remaining part with GPT-2's regular expression (`GPT2PreTokenizer`), after a
///    leading space when `add_prefix_space` is set;
/// 3. write each piece's UTF-8 bytes as characters (`ByteLevel`: space is `Ġ`) and merge them by
///    the BPE merge ranks (`BPEMerges`).
///
/// Decoding maps ids back to their token strings, the stand-in characters back to bytes, and the
/// bytes to text (invalid UTF-8 becomes U+FFFD, as in `tokenizers`).
///
/// ```swift
/// let tokenizer = try BPETokenizer(contentsOf: "gpt2/tokenizer.json")
/// let ids = tokenizer.encode("Hello, world!")          // [15496, 11, 995, 0] for GPT-2
/// let text = try tokenizer.decode(ids)                 // "Hello, world!"
/// ```
public struct BPETokenizer: Sendable {
  /// A token added beside the BPE vocabulary (`added_tokens` in the file), matched literally
  /// before pre-tokenization.
  public struct AddedToken: Sendable, Equatable {
    /// The token's id.
    public let id: Int
    /// The literal text.
    public let content: String
    /// Whether it is a special token (`<|endoftext|>`), which `decode(skipSpecialTokens: true)` drops.
    public let isSpecial: Bool
    /// Matched only between non-word characters.
    public let singleWord: Bool
    /// The match takes the whitespace before it.
    public let leftStrip: Bool
    /// The match takes the whitespace after it.
    public let rightStrip: Bool
  }

  /// The file the tokenizer was read from, named in errors.
  public let path: String
  /// The file's bytes as read, written back unchanged by ``write(to:)``.
  public let json: Data
  /// The BPE model's vocabulary: token string → id.
  public let vocabulary: [String: Int]
  /// The added tokens, in the file's order.
  public let addedTokens: [AddedToken]
  /// Whether a space is put before each part of the text that does not start with one (the
  /// pre-tokenizer's `add_prefix_space`).
  public let addsPrefixSpace: Bool

  let merges: BPEMerges
  /// The id of each byte's stand-in character, or −1 when the vocabulary lacks it.
  let byteIDs: [Int32]
  let tokenOfID: [Int: String]
  let addedTokenOfID: [Int: AddedToken]
  /// The added tokens as scalars, grouped by their first scalar, longest first (leftmost-longest matching).
  let addedTokensByFirstScalar: [Unicode.Scalar: [([Unicode.Scalar], AddedToken)]]
  let unknownID: Int?
  let fusesUnknown: Bool
  let ignoresMerges: Bool
  let usesRegex: Bool

  /// The number of distinct ids: the vocabulary and the added tokens (transformers' `len(tokenizer)`).
  public var vocabularySize: Int { Set(vocabulary.values).union(addedTokens.map(\.id)).count }

  /// The id of `token`: an added token's content or a vocabulary entry (in stand-in characters).
  public func id(of token: String) -> Int? {
    addedTokens.first { $0.content == token }?.id ?? vocabulary[token]
  }

  /// The token string of `id` (added tokens as written, vocabulary entries in stand-in characters).
  public func token(of id: Int) -> String? {
    addedTokenOfID[id]?.content ?? tokenOfID[id]
  }

  // MARK: Encoding

  /// The ids of `text`, without special tokens added around it.
  public func encode(_ text: String) -> [Int] {
    let scalars = Array(text.unicodeScalars)
    var ids: [Int] = []
    ids.reserveCapacity(scalars.count / 3)
    var cache: [String: [Int32]] = [:]
    var start = 0
    for (range, added) in splitOnAddedTokens(scalars) {
      if range.lowerBound > start { encodeSegment(scalars[start..<range.lowerBound], into: &ids, cache: &cache) }
      ids.append(added.id)
      start = range.upperBound
    }
    if start < scalars.count { encodeSegment(scalars[start...], into: &ids, cache: &cache) }
    return ids
  }

  /// The occurrences of added tokens in `scalars`, left to right: at each position the longest
  /// token that matches, as `tokenizers`' leftmost-longest matcher; `leftStrip`/`rightStrip` widen
  /// a match over neighbouring whitespace.
  func splitOnAddedTokens(_ scalars: [Unicode.Scalar]) -> [(Range<Int>, AddedToken)] {
    if addedTokens.isEmpty { return [] }
    var matches: [(Range<Int>, AddedToken)] = []
    var i = 0
    var lastEnd = 0
    while i < scalars.count {
      var found: (Int, AddedToken)? = nil
      // The tokens that start with this scalar, longest first.
      for (pattern, token) in addedTokensByFirstScalar[scalars[i]] ?? [] where pattern.count <= scalars.count - i {
        guard scalars[i..<(i + pattern.count)].elementsEqual(pattern) else { continue }
        let end = i + pattern.count
        if token.singleWord
          && ((i > 0 && isWordCharacter(scalars[i - 1])) || (end < scalars.count && isWordCharacter(scalars[end])))
        {
          continue
        }
        found = (end, token)
        break
      }
      guard let (end, token) = found else {
        i += 1
        continue
      }
      var (from, to) = (i, end)
      if token.leftStrip {
        while from > lastEnd && scalars[from - 1].properties.isWhitespace { from -= 1 }
      }
      if token.rightStrip {
        while to < scalars.count && scalars[to].properties.isWhitespace { to += 1 }
      }
      matches.append((from..<to, token))
      lastEnd = to
      i = to
    }
    return matches
  }

  private func isWordCharacter(_ scalar: Unicode.Scalar) -> Bool {
    let c = GPT2PreTokenizer.characterClass(scalar)
    return c == .letter || c == .number || scalar == "_"
  }

  /// Appends the ids of a part of the text between added tokens.
  private func encodeSegment(
    _ segment: ArraySlice<Unicode.Scalar>, into ids: inout [Int], cache: inout [String: [Int32]]
  ) {
    var scalars = Array(segment)
    if addsPrefixSpace && scalars.first != " " { scalars.insert(" ", at: 0) }
    let pieces = usesRegex ? GPT2PreTokenizer.split(scalars) : [0..<scalars.count]
    var bytes: [UInt8] = []
    for piece in pieces {
      var view = String.UnicodeScalarView()
      view.append(contentsOf: scalars[piece])
      let key = String(view)
      if let cached = cache[key] {
        for id in cached { ids.append(Int(id)) }
        continue
      }
      bytes.removeAll(keepingCapacity: true)
      bytes.append(contentsOf: key.utf8)
      let merged = bpe(bytes)
      cache[key] = merged
      for id in merged { ids.append(Int(id)) }
    }
  }

  /// The BPE ids of one piece's bytes.
  func bpe(_ bytes: [UInt8]) -> [Int32] {
    if ignoresMerges, let id = vocabulary[ByteLevel.text(of: bytes)] { return [Int32(id)] }
    var symbols: [Int32] = []
    symbols.reserveCapacity(bytes.count)
    var previousWasUnknown = false
    for byte in bytes {
      let id = byteIDs[Int(byte)]
      if id >= 0 {
        symbols.append(id)
        previousWasUnknown = false
      } else if let unknownID {
        // A character outside the vocabulary: the unknown token, fused with a preceding one if asked.
        if !(fusesUnknown && previousWasUnknown) { symbols.append(Int32(unknownID)) }
        previousWasUnknown = true
      }  // without an unknown token the character is dropped, as `tokenizers` drops it
    }
    return merges.apply(to: symbols)
  }

  // MARK: Decoding

  /// The text of `ids`: each id's token, its stand-in characters read back as bytes, the bytes as
  /// UTF-8 (an invalid sequence becomes U+FFFD). Special tokens are kept unless
  /// `skipSpecialTokens`.
  ///
  /// - Throws: ``TokenizerError/unknownID(_:)`` for an id outside the vocabulary and the added tokens.
  public func decode(_ ids: [Int], skipSpecialTokens: Bool = false) throws(TokenizerError) -> String {
    var bytes: [UInt8] = []
    for id in ids {
      if let added = addedTokenOfID[id] {
        if added.isSpecial && skipSpecialTokens { continue }
        bytes.append(contentsOf: ByteLevel.bytes(ofToken: added.content))
      } else if let token = tokenOfID[id] {
        bytes.append(contentsOf: ByteLevel.bytes(ofToken: token))
      } else {
        throw .unknownID(id)
      }
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  // MARK: Saving

  /// Writes the tokenizer's file, byte for byte as it was read, to `path`.
  public func write(to path: String) throws {
    try json.write(to: URL(fileURLWithPath: path), options: .atomic)
  }

  init(
    path: String, json: Data, vocabulary: [String: Int], tokenOfID: [Int: String], addedTokens: [AddedToken],
    merges: BPEMerges, unknownID: Int?, fusesUnknown: Bool, ignoresMerges: Bool, addsPrefixSpace: Bool,
    usesRegex: Bool
  ) {
    self.path = path
    self.json = json
    self.vocabulary = vocabulary
    self.tokenOfID = tokenOfID
    self.addedTokens = addedTokens
    self.addedTokenOfID = Dictionary(addedTokens.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    addedTokensByFirstScalar = Dictionary(
      grouping: addedTokens.map { (Array($0.content.unicodeScalars), $0) }.filter { !$0.0.isEmpty },
      by: { $0.0[0] }
    ).mapValues { $0.sorted { $0.0.count > $1.0.count } }
    self.merges = merges
    self.unknownID = unknownID
    self.fusesUnknown = fusesUnknown
    self.ignoresMerges = ignoresMerges
    self.addsPrefixSpace = addsPrefixSpace
    self.usesRegex = usesRegex
    byteIDs = ByteLevel.characterOfByte.map { vocabulary[String($0)].map(Int32.init) ?? -1 }
  }
}
