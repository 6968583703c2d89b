// libFuzzer targets for the Hugging Face model files (AwesomegradTokenizers, AwesomegradModels):
// tokenizer-json (a tokenizer.json), tokenizer-text (any text through the test fixtures' tokenizer)
// and model-config (a config.json). See FuzzTargets.swift for how targets are built and chosen.

import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A tokenizer.json: read it, encode fixed texts, decode what was encoded. Ids from `encode` are
/// always decodable; when the vocabulary holds all 256 byte characters, has no unknown token and its
/// added tokens are printable ASCII, decoding gives the text back.
func fuzzTokenizerJSON(_ bytes: [UInt8]) {
  guard let tokenizer = try? BPETokenizer(json: Data(bytes), path: "fuzz") else { return }
  let roundTrips =
    tokenizer.byteIDs.allSatisfy { $0 >= 0 } && tokenizer.unknownID == nil
    && tokenizer.addedTokens.allSatisfy { $0.content.unicodeScalars.allSatisfy { (0x21...0x7E).contains($0.value) } }
  for text in ["", " ", "Hello, world!  It's 1984.\n\t", "Café e\u{301} 日本語 👨\u{200D}👩 ½", "<|endoftext|>x"] {
    let ids = tokenizer.encode(text)
    sink(ids.count)
    guard let decoded = try? tokenizer.decode(ids) else { fatalError("encode made an id decode refuses: \(ids)") }
    if roundTrips && decoded != text { fatalError("\(text.debugDescription) decoded as \(decoded.debugDescription)") }
  }
}

/// The fixture tokenizer (GPT-2 style, every byte in its vocabulary) on any text: decoding the ids
/// gives the text back, and encoding is deterministic. The tokenizer is read from its bytes for each
/// input: held in a global, its `Data` (whose reference Swift stores with tag bits) is reported as
/// leaked by LeakSanitizer.
func fuzzTokenizerText(_ bytes: [UInt8]) {
  guard let tokenizer = try? BPETokenizer(json: Data(fixtureTokenizerBytes), path: "fixture") else {
    fatalError("the fixture tokenizer does not load")
  }
  let text = String(decoding: bytes, as: UTF8.self)
  let ids = tokenizer.encode(text)
  guard let decoded = try? tokenizer.decode(ids), decoded == text else {
    fatalError("\(text.debugDescription) does not round-trip: \(ids)")
  }
  if tokenizer.encode(text) != ids { fatalError("\(text.debugDescription) encodes two ways") }
  sink(ids.count)
}

/// The test fixtures' tokenizer.json, read once from the repository (scripts/fuzz runs from its root).
let fixtureTokenizerBytes: [UInt8] = {
  let path = "Tests/AwesomegradModelsTests/Fixtures/hf/tokenizer/tokenizer.json"
  guard let file = fopen(path, "rb") else { fatalError("the tokenizer-text target reads \(path) from the repository root") }
  defer { fclose(file) }
  var bytes: [UInt8] = []
  var chunk = [UInt8](repeating: 0, count: 65536)
  while true {
    let n = fread(&chunk, 1, chunk.count, file)
    if n <= 0 { break }
    bytes += chunk[0..<n]
  }
  return bytes
}()

/// A config.json: read it, list the tensors its model needs, write it back and read that again:
/// the same configuration.
func fuzzModelConfig(_ bytes: [UInt8]) {
  guard let configuration = try? ModelConfiguration(json: Data(bytes), path: "fuzz") else { return }
  let specifications: [TensorSpecification]
  switch configuration.architecture {
  case .gpt2(let sizes): specifications = GPT2LanguageModel.specifications(sizes)
  case .llama(let sizes): specifications = LlamaLanguageModel.specifications(sizes)
  }
  sink(specifications.count)
  guard let written = try? configuration.jsonData(),
    let reread = try? ModelConfiguration(json: written, path: "rewritten")
  else { fatalError("the configuration does not write back") }
  if reread.architecture != configuration.architecture || reread.eosTokenIDs != configuration.eosTokenIDs {
    fatalError("the configuration changed in the round trip")
  }
}
