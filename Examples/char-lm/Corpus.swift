import Awesomegrad
import Foundation

/// A text as byte tokens: the vocabulary is its distinct bytes in increasing order, and the first 90%
/// of the tokens train, the last 10% validate.
struct Corpus {
  /// Where Debian's `fortunes` package puts the fortune files.
  static let fortunesDirectory = "/usr/share/games/fortunes"
  /// The largest text read: the tokens are held as `Int`s, 8 bytes each.
  static let maximumBytes = 1 << 30

  /// The distinct bytes of the text, in increasing order; token i is byte `vocabulary[i]`.
  let vocabulary: [UInt8]
  /// The first 90% of the text, as tokens.
  let train: [Int]
  /// The last 10%, as tokens.
  let validation: [Int]
  /// What the text is, for the first line of output.
  let source: String

  /// The length of the text in bytes.
  var byteCount: Int { train.count + validation.count }

  /// Tokens over `bytes`, split 90/10.
  init(bytes: [UInt8], source: String) {
    var present = [Bool](repeating: false, count: 256)
    for b in bytes { present[Int(b)] = true }
    vocabulary = (0..<256).filter { present[$0] }.map { UInt8($0) }
    var index = [Int](repeating: 0, count: 256)
    for (i, b) in vocabulary.enumerated() { index[Int(b)] = i }
    let tokens = bytes.map { index[Int($0)] }
    let split = Int(0.9 * Double(tokens.count))
    train = Array(tokens[..<split])
    validation = Array(tokens[split...])
    self.source = source
  }

  /// The bytes of `path`.
  init(file path: String) throws {
    self.init(bytes: try Self.read(path), source: (path as NSString).lastPathComponent)
  }

  /// Every file without an extension in `directory` (the fortune files; `.dat` and `.u8` are
  /// indexes and links), sorted by name and concatenated.
  static func fortunes(directory: String = fortunesDirectory) throws -> Corpus {
    let names: [String]
    do {
      names = try FileManager.default.contentsOfDirectory(atPath: directory)
    } catch {
      throw CorpusError.missing(
        "cannot list \(directory): install Debian's fortunes (`sudo apt-get install fortunes` or "
          + "`bash scripts/install-deps --fortunes`), or pass --data FILE")
    }
    var bytes: [UInt8] = []
    var files = 0
    for name in names.sorted() where !name.contains(".") {
      let path = directory + "/" + name
      var isDirectory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue
      else { continue }
      bytes += try read(path)
      files += 1
      if bytes.count > maximumBytes { throw CorpusError.tooLarge(directory) }
    }
    if files == 0 {
      throw CorpusError.missing(
        "\(directory) has no fortune files: install Debian's fortunes, or pass --data FILE")
    }
    return Corpus(bytes: bytes, source: "fortunes (\(files) files)")
  }

  /// The contents of `path`, checked for size before reading.
  static func read(_ path: String) throws -> [UInt8] {
    let attributes: [FileAttributeKey: Any]
    do {
      attributes = try FileManager.default.attributesOfItem(atPath: path)
    } catch {
      throw CorpusError.missing("cannot read \(path): \(error.localizedDescription)")
    }
    if let size = attributes[.size] as? Int, size > maximumBytes { throw CorpusError.tooLarge(path) }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw CorpusError.missing("cannot read \(path); check the path and its permissions")
    }
    return [UInt8](data)
  }

  /// `size` random windows of `tokens`: inputs `[size, context]` and the targets, the same windows
  /// shifted by one token.
  func batch(
    from tokens: [Int], size: Int, context: Int, using rng: inout SeededGenerator
  ) -> (IndexTensor, IndexTensor) {
    var x: [Int] = [], y: [Int] = []
    x.reserveCapacity(size * context)
    y.reserveCapacity(size * context)
    for _ in 0..<size {
      let start = Int.random(in: 0..<(tokens.count - context), using: &rng)
      x += tokens[start..<(start + context)]
      y += tokens[(start + 1)..<(start + 1 + context)]
    }
    return (IndexTensor(x, shape: [size, context]), IndexTensor(y, shape: [size, context]))
  }

  /// The text of `tokens` (bytes that are not valid UTF-8 are shown as U+FFFD).
  func decode(_ tokens: [Int]) -> String {
    String(decoding: tokens.map { vocabulary[$0] }, as: UTF8.self)
  }
}

/// Why the text could not be read.
enum CorpusError: Error, CustomStringConvertible {
  case missing(String)
  case tooLarge(String)

  var description: String {
    switch self {
    case .missing(let message): message
    case .tooLarge(let path):
      "\(path) is larger than \(Corpus.maximumBytes) bytes; pass a smaller --data FILE"
    }
  }
}
