import AwesomegradTokenizers
import Foundation
import Testing

/// The byte-level BPE tokenizer against `tokenizers` 0.23.3 (`expected.json` → `tokenizer.texts`:
/// ascii, punctuation runs, numbers, contractions, spaces and newlines, tabs, accented NFC and NFD,
/// CJK, emoji, ZWJ sequences, empty, whitespace only, a special token inside, a 2 KB paragraph).
@Suite struct TokenizerTests {
  let tokenizer = try! BPETokenizer(contentsOf: HFFixture.path("tokenizer/tokenizer.json"))

  @Test func encodesEveryFixtureTextAsTokenizersDoes() {
    for entry in HFFixture.texts {
      let name = entry["name"] as! String
      let text = entry["text"] as! String
      #expect(tokenizer.encode(text) == ints(entry["ids"]), "\(name)")
    }
  }

  @Test func decodesEveryFixtureTextAsTokenizersDoes() throws {
    for entry in HFFixture.texts {
      let name = entry["name"] as! String
      let ids = ints(entry["ids"])
      let (decoded, skipped) = (entry["decoded"] as! String, entry["decoded_skip_special"] as! String)
      #expect(try tokenizer.decode(ids) == decoded, "\(name)")
      #expect(try tokenizer.decode(ids, skipSpecialTokens: true) == skipped, "\(name)")
    }
  }

  @Test func tokensAreTheByteLevelStrings() {
    for entry in HFFixture.texts {
      let (expected, name) = (entry["tokens"] as! [String], entry["name"] as! String)
      #expect(ints(entry["ids"]).map { tokenizer.token(of: $0)! } == expected, "\(name)")
    }
  }

  @Test func vocabularyAndSpecialToken() {
    #expect(tokenizer.vocabularySize == 512)
    #expect(tokenizer.id(of: "<|endoftext|>") == 0)
    #expect(tokenizer.addedTokens.map(\.isSpecial) == [true])
  }

  /// The pair format `vocab.json` + `merges.txt` written as a tokenizer.json with string merges
  /// ("Ġ t", the format of older files) gives the same ids.
  @Test func readsMergesWrittenAsStrings() throws {
    let data = try Data(contentsOf: URL(fileURLWithPath: HFFixture.path("tokenizer/tokenizer.json")))
    var json = try JSONSerialization.jsonObject(with: data) as! [String: Any]
    var model = json["model"] as! [String: Any]
    model["merges"] = (model["merges"] as! [[String]]).map { $0.joined(separator: " ") }
    json["model"] = model
    let old = try BPETokenizer(json: JSONSerialization.data(withJSONObject: json), path: "strings.json")
    for entry in HFFixture.texts {
      let text = entry["text"] as! String
      #expect(old.encode(text) == ints(entry["ids"]))
    }
  }

  @Test func unknownIDsAreAnError() {
    #expect(throws: TokenizerError.unknownID(512)) { try tokenizer.decode([1, 512]) }
  }

  /// Invalid UTF-8 from a cut multi-byte character decodes to U+FFFD, as `tokenizers` does.
  @Test func cutCharactersDecodeToReplacement() throws {
    let ids = tokenizer.encode("é")
    let bytes = ids.map { tokenizer.token(of: $0)! }.joined()
    #expect(bytes.unicodeScalars.count == 2)  // é is two bytes, unmerged in this small vocabulary
    #expect(try tokenizer.decode([ids[0]]) == "\u{FFFD}")
  }
}
