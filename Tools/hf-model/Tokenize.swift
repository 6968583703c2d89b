import ArgumentParser
import AwesomegradTokenizers
import Foundation

/// `hf-model tokenize --tokenizer FILE --text-file F --json`: `{"ids": [...]}`.
struct Tokenize: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Encode a UTF-8 text file with a tokenizer.json (no special tokens added).")

  @Option(help: "The tokenizer.json file.")
  var tokenizer: String

  @Option(help: "The text to encode: the whole file, as UTF-8.")
  var textFile: String

  @Flag(help: "Print {\"ids\": [...]} instead of one id per line.")
  var json = false

  func run() throws {
    try reportingErrors {
      let tokenizer = try BPETokenizer(contentsOf: tokenizer)
      let ids = tokenizer.encode(try readText(textFile))
      if json {
        printJSONArray("ids", ids)
      } else {
        print(ids.map(String.init).joined(separator: " "))
      }
    }
  }
}

/// `hf-model decode --tokenizer FILE --ids 1,2,3 [--skip-special-tokens] --json`: `{"text": "..."}`.
struct Decode: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Decode token ids with a tokenizer.json (special tokens are kept unless asked).")

  @Option(help: "The tokenizer.json file.")
  var tokenizer: String

  @Option(help: "The ids, separated by commas.")
  var ids: String

  @Flag(help: "Drop special tokens such as <|endoftext|>.")
  var skipSpecialTokens = false

  @Flag(help: "Print {\"text\": \"...\"} instead of the text.")
  var json = false

  func run() throws {
    try reportingErrors {
      let tokenizer = try BPETokenizer(contentsOf: tokenizer)
      let text = try tokenizer.decode(try parseIDs(ids, option: "--ids"), skipSpecialTokens: skipSpecialTokens)
      if json {
        try printJSON(["text": text])
      } else {
        print(text)
      }
    }
  }
}

/// The file at `path` as UTF-8 text.
func readText(_ path: String) throws -> String {
  let data: Data
  do {
    data = try Data(contentsOf: URL(fileURLWithPath: path))
  } catch {
    throw FileFormatError.unreadable(path: path, reason: (error as NSError).localizedDescription)
  }
  guard let text = String(data: data, encoding: .utf8) else {
    throw FileFormatError.malformed(path: path, reason: "the text is not valid UTF-8")
  }
  return text
}
