import Awesomegrad
import AwesomegradModels
import AwesomegradTokenizers
import Foundation
import Testing

/// Bad model folders and tokenizers are typed errors naming the file and the field, never traps.
@Suite struct BadInputTests {
  /// A copy of the fixture folder `name` in a new temporary folder, with `edit` applied to its
  /// config.json (parsed) when given.
  static func copy(_ name: String, editingConfig edit: ((inout [String: Any]) -> Void)? = nil) throws -> String {
    let directory = SavingTests.temporaryDirectory().path
    try FileManager.default.copyItem(atPath: HFFixture.path(name), toPath: directory)
    if let edit {
      let path = directory + "/config.json"
      var config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
      edit(&config)
      try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: path))
    }
    return directory
  }

  static func error(loading directory: String, strict: Bool = true) -> (any Error)? {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    do {
      _ = try loadCausalLanguageModel(from: directory, strict: strict)
      return nil
    } catch {
      return error
    }
  }

  @Test func missingConfig() throws {
    let directory = try Self.copy("gpt2")
    try FileManager.default.removeItem(atPath: directory + "/config.json")
    let error = try #require(Self.error(loading: directory) as? ModelError)
    guard case .missingFile(let path, _) = error else { Issue.record("\(error)"); return }
    #expect(path.hasSuffix("/config.json"))
  }

  @Test func missingWeights() throws {
    let directory = try Self.copy("llama")
    try FileManager.default.removeItem(atPath: directory + "/model.safetensors")
    let error = try #require(Self.error(loading: directory) as? ModelError)
    #expect("\(error)".contains("model.safetensors"))
  }

  @Test func unknownArchitecture() throws {
    let directory = try Self.copy("gpt2") { $0["model_type"] = "bert" }
    let error = try #require(Self.error(loading: directory) as? FileFormatError)
    guard case .unsupported(let path, "model_type", "bert", _) = error else { Issue.record("\(error)"); return }
    #expect(path.hasSuffix("/config.json"))
  }

  /// config.json's vocab_size (500) disagrees with the weights' 512 rows.
  @Test func shapeDisagreesWithConfig() throws {
    let directory = try Self.copy("gpt2") { $0["vocab_size"] = 500 }
    let error = try #require(Self.error(loading: directory) as? ModelError)
    #expect(
      error
        == .shapeMismatch(
          file: directory + "/model.safetensors", tensor: "transformer.wte.weight", expected: [500, 64],
          found: [512, 64], fields: "[vocab_size, n_embd]"))
  }

  @Test(arguments: ["llama3", "linear", "dynamic", "yarn"])
  func unsupportedRopeScaling(_ kind: String) throws {
    let directory = try Self.copy("llama") { $0["rope_parameters"] = ["rope_type": kind, "rope_theta": 10000.0, "factor": 8.0] }
    let error = try #require(Self.error(loading: directory) as? FileFormatError)
    guard case .unsupported(_, "rope_parameters.rope_type", kind, "default") = error else {
      Issue.record("\(error)")
      return
    }
    // transformers 4's rope_scaling {"type": ...} too.
    let old = try Self.copy("llama") {
      $0["rope_parameters"] = nil
      $0["rope_theta"] = 10000.0
      $0["rope_scaling"] = ["type": kind, "factor": 2.0]
    }
    let error4 = try #require(Self.error(loading: old) as? FileFormatError)
    guard case .unsupported(_, "rope_scaling.type", kind, _) = error4 else { Issue.record("\(error4)"); return }
  }

  @Test func inconsistentOrUnsupportedOptions() throws {
    let headsError = try #require(
      Self.error(loading: try Self.copy("llama") { $0["num_key_value_heads"] = 3 }) as? FileFormatError)
    guard case .invalidField(_, "the document", let reason) = headsError else { Issue.record("\(headsError)"); return }
    #expect(reason.contains("num_key_value_heads"))
    let activation = try #require(
      Self.error(loading: try Self.copy("gpt2") { $0["activation_function"] = "relu" }) as? FileFormatError)
    guard case .unsupported(_, "activation_function", "relu", _) = activation else { Issue.record("\(activation)"); return }
    let size = try #require(Self.error(loading: try Self.copy("gpt2") { $0["n_embd"] = -64 }) as? FileFormatError)
    guard case .invalidField(_, "n_embd", _) = size else { Issue.record("\(size)"); return }
    let type = try #require(Self.error(loading: try Self.copy("gpt2") { $0["n_layer"] = "two" }) as? FileFormatError)
    guard case .invalidField(_, "n_layer", "expected an integer, found a string") = type else {
      Issue.record("\(type)")
      return
    }
  }

  /// Missing tensors are listed by name; unexpected ones too when strict, and ignored otherwise.
  @Test func missingAndUnexpectedTensors() throws {
    let directory = try Self.copy("llama")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let path = directory + "/model.safetensors"
    let file = try SafeTensorsFile(contentsOf: path)
    func load(strict: Bool = true) -> (any Error)? {
      do {
        _ = try loadCausalLanguageModel(from: directory, strict: strict)
        return nil
      } catch {
        return error
      }
    }
    var tensors: [String: SafeTensorsWritable] = [:]
    for name in file.names where name != "model.norm.weight" && name != "lm_head.weight" {
      tensors[name] = SafeTensorsWritable(try file.tensor(name, as: Float.self))
    }
    tensors["model.extra.weight"] = SafeTensorsWritable(Tensor<Float>.zeros([2]))
    try writeSafeTensors(tensors, metadata: ["format": "pt"], to: path)
    #expect(
      load() as? ModelError == .missingTensors(file: path, names: ["model.norm.weight", "lm_head.weight"]))

    tensors["model.norm.weight"] = SafeTensorsWritable(try file.tensor("model.norm.weight", as: Float.self))
    tensors["lm_head.weight"] = SafeTensorsWritable(try file.tensor("lm_head.weight", as: Float.self))
    try writeSafeTensors(tensors, metadata: ["format": "pt"], to: path)
    #expect(load() as? ModelError == .unexpectedTensors(file: path, names: ["model.extra.weight"]))
    #expect(load(strict: false) == nil)
  }

  /// Loading a Llama whose config ties the head while the file holds no lm_head uses the embedding.
  @Test func tiedLlamaWithoutHeadInTheFile() throws {
    let directory = try Self.copy("llama") { $0["tie_word_embeddings"] = true }
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let path = directory + "/model.safetensors"
    let file = try SafeTensorsFile(contentsOf: path)
    var tensors: [String: SafeTensorsWritable] = [:]
    for name in file.names where name != "lm_head.weight" {
      tensors[name] = SafeTensorsWritable(try file.tensor(name, as: Float.self))
    }
    try writeSafeTensors(tensors, metadata: ["format": "pt"], to: path)
    let model = try loadCausalLanguageModel(from: directory)
    #expect(model.namedParameters.count == 20)
    #expect(
      (model as! LlamaLanguageModel).lm_head.weight === (model as! LlamaLanguageModel).embed_tokens.weight)
  }

  /// A shard index naming a file outside the folder, or a tensor its shard lacks.
  @Test func invalidShardIndex() throws {
    for (tensor, shard) in [("model.norm.weight", "../model.safetensors"), ("model.norm.weight", "model-00001-of-00004.safetensors")] {
      let directory = try Self.copy("llama_sharded")
      let path = directory + "/model.safetensors.index.json"
      var index = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
      var map = index["weight_map"] as! [String: String]
      map[tensor] = shard
      index["weight_map"] = map
      try JSONSerialization.data(withJSONObject: index).write(to: URL(fileURLWithPath: path))
      let error = try #require(Self.error(loading: directory) as? ModelError)
      guard case .invalidIndex(let file, _) = error else { Issue.record("\(error)"); continue }
      #expect(file == path)
    }
  }

  // MARK: Tokenizers

  static func tokenizerError(_ edit: (inout [String: Any]) -> Void) throws -> FileFormatError? {
    let data = try Data(contentsOf: URL(fileURLWithPath: HFFixture.path("tokenizer/tokenizer.json")))
    var json = try JSONSerialization.jsonObject(with: data) as! [String: Any]
    edit(&json)
    let bytes = try JSONSerialization.data(withJSONObject: json)
    do {
      _ = try BPETokenizer(json: bytes, path: "t.json")
      return nil
    } catch {
      return error
    }
  }

  @Test func tokenizerOfAnUnsupportedKind() throws {
    func model(_ edit: @escaping (inout [String: Any]) -> Void) -> (inout [String: Any]) -> Void {
      { json in
        var model = json["model"] as! [String: Any]
        edit(&model)
        json["model"] = model
      }
    }
    #expect(
      try Self.tokenizerError(model { $0["type"] = "WordPiece" })
        == .unsupported(path: "t.json", field: "model.type", value: "WordPiece", supported: "BPE"))
    #expect(
      try Self.tokenizerError { $0["pre_tokenizer"] = ["type": "Metaspace", "replacement": "▁"] }
        == .unsupported(path: "t.json", field: "pre_tokenizer.type", value: "Metaspace", supported: "ByteLevel"))
    #expect(
      try Self.tokenizerError { $0["normalizer"] = ["type": "NFC"] }
        == .unsupported(path: "t.json", field: "normalizer", value: "NFC", supported: "null"))
    #expect(
      try Self.tokenizerError(model { $0["byte_fallback"] = true })
        == .unsupported(path: "t.json", field: "model.byte_fallback", value: "true", supported: "false"))
    #expect(try Self.tokenizerError { $0["model"] = nil } == .missingField(path: "t.json", field: "model"))
    #expect(
      try Self.tokenizerError(model { $0["merges"] = [["Ġ", "zzz"]] })
        == .invalidField(path: "t.json", field: "model.merges[0]", reason: "\"zzz\" is not in model.vocab"))
    #expect(
      try Self.tokenizerError(model { $0["vocab"] = ["a": "1"] })
        == .invalidField(path: "t.json", field: "model.vocab.a", reason: "expected an integer, found a string"))
    #expect(throws: FileFormatError.self) { try BPETokenizer(json: Data("{\"model\": [".utf8)) }
    #expect(throws: FileFormatError.self) { try BPETokenizer(contentsOf: "/nonexistent/tokenizer.json") }
  }

  /// GPT-2's pre-tokenizer on the cases its README names: lower-case contractions only, a
  /// combining accent breaks a word, ½ Ⅻ ٣ are numbers, the last space of a run joins the word after.
  @Test func preTokenizerClasses() throws {
    let tokenizer = try BPETokenizer(contentsOf: HFFixture.path("tokenizer/tokenizer.json"))
    #expect(try tokenizer.decode(tokenizer.encode("I'M ½Ⅻ٣ e\u{301}")) == "I'M ½Ⅻ٣ e\u{301}")
    #expect(tokenizer.encode("a  b") == tokenizer.encode("a ") + tokenizer.encode(" b"))
    #expect(tokenizer.encode("x½Ⅻ٣") == tokenizer.encode("x") + tokenizer.encode("½Ⅻ٣"))
    #expect(tokenizer.encode("I'M") == tokenizer.encode("I") + tokenizer.encode("'") + tokenizer.encode("M"))
    #expect(tokenizer.encode("e\u{301}") == tokenizer.encode("e") + tokenizer.encode("\u{301}"))
  }
}
