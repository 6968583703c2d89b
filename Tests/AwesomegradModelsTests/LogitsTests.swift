import Awesomegrad
import AwesomegradModels
import Foundation
import Testing

/// Logits against `transformers` 5.24.0 (eager attention, float32): every prompt's last position,
/// and every position of the 7-token prompt, to 1e-4 absolute (the fixture's README: a wrong RoPE
/// pairing, GQA map, q/k/v order or Conv1D transposition moves them by 5 to 7; the exact GELU in
/// place of the tanh form by 1.6e-3).
@Suite struct LogitsTests {
  static let tolerance: Float = 1e-4

  static func load(_ name: String) throws -> any CausalLanguageModel {
    try loadCausalLanguageModel(from: HFFixture.path(name))
  }

  /// The largest |a − b|.
  static func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    return zip(a, b).map { Swift.abs($0 - $1) }.max() ?? 0
  }

  /// Checks every prompt of `expected` (a `models.X` or `variants.gpt2_bf16` entry) on `model`.
  static func checkPrompts(_ model: any CausalLanguageModel, _ expected: [String: Any], name: String) {
    for prompt in expected["prompts"] as! [[String: Any]] {
      let ids = ints(prompt["ids"])
      let logits = withoutGrad { model(IndexTensor(ids, shape: [1, ids.count])) }
      let v = logits.shape[2]
      #expect(logits.shape == [1, ids.count, v])
      let last = Array(logits.scalars.suffix(v))
      let difference = maxDifference(last, floats(prompt["logits_last"]))
      #expect(difference <= tolerance, "\(name), prompt of \(ids.count): \(difference)")
      if let all = prompt["logits_all"] as? [[Any]] {
        let expectedAll = all.flatMap { floats($0) }
        let differenceAll = maxDifference(logits.scalars, expectedAll)
        #expect(differenceAll <= tolerance, "\(name), every position of \(ids.count): \(differenceAll)")
      }
    }
  }

  @Test func gpt2() throws {
    let model = try Self.load("gpt2")
    #expect(model is GPT2LanguageModel)
    #expect(model.parameterCount == 141_056)
    Self.checkPrompts(model, HFFixture.model("gpt2"), name: "gpt2")
  }

  @Test func llama() throws {
    let model = try Self.load("llama")
    #expect(model is LlamaLanguageModel)
    #expect(model.parameterCount == 156_480)
    Self.checkPrompts(model, HFFixture.model("llama"), name: "llama")
  }

  /// The Llama split in four shards with an index: the same logits.
  @Test func llamaSharded() throws {
    Self.checkPrompts(try Self.load("llama_sharded"), HFFixture.model("llama"), name: "llama_sharded")
  }

  /// The GPT-2 rounded to BF16: widened exactly, the BF16 weights' logits.
  @Test func gpt2BF16() throws {
    Self.checkPrompts(try Self.load("gpt2_bf16"), HFFixture.variant("gpt2_bf16"), name: "gpt2_bf16")
  }

  /// Parameter names and their order are transformers' `named_parameters()`; a tied head appears
  /// once, under the embedding.
  @Test func parameterNamesAreHuggingFaces() throws {
    for name in ["gpt2", "llama"] {
      let model = try Self.load(name)
      let expected = (HFFixture.model(name)["tensors"] as! [String: Any]).keys.sorted()
      #expect(model.namedParameters.map(\.name).sorted() == expected)
    }
  }
}

/// F16 checkpoints: the Llama's weights rounded to half precision and written as F16 load to the
/// logits of the F32 model whose weights are rounded the same way (F16 widens to Float exactly).
@Suite struct HalfPrecisionTests {
  @Test func f16CheckpointLoadsAsItsRoundedWeights() throws {
    let directory = SavingTests.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    try FileManager.default.copyItem(
      atPath: HFFixture.path("llama/config.json"), toPath: directory.appendingPathComponent("config.json").path)
    let source = try SafeTensorsFile(contentsOf: HFFixture.path("llama/model.safetensors"))
    // A safetensors file of F16 tensors, written by hand: header, then each tensor's half-precision bits.
    var header: [String] = []
    var data: [UInt8] = []
    var rounded: [String: Tensor<Float>] = [:]
    for name in source.names {
      let tensor = try source.tensor(name, as: Float.self)
      let halves = tensor.scalars.map { Float16($0) }
      rounded[name] = Tensor(halves.map { Float($0) }, shape: tensor.shape)
      header.append(
        "\"\(name)\":{\"dtype\":\"F16\",\"shape\":\(tensor.shape),\"data_offsets\":[\(data.count),\(data.count + 2 * halves.count)]}")
      for h in halves { data += [UInt8(h.bitPattern & 0xFF), UInt8(h.bitPattern >> 8)] }
    }
    var json = Array(("{\"__metadata__\":{\"format\":\"pt\"}," + header.joined(separator: ",") + "}").utf8)
    while json.count % 8 != 0 { json.append(0x20) }
    let length = UInt64(json.count)
    let bytes = (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * UInt64($0))) } + json + data
    try Data(bytes).write(to: directory.appendingPathComponent("model.safetensors"))

    let half = try loadCausalLanguageModel(from: directory.path)
    let reference = try LogitsTests.load("llama")
    try reference.loadStateDict(rounded)
    let tokens = IndexTensor([5, 77, 300, 12, 9], shape: [1, 5])
    #expect(withoutGrad { half(tokens).scalars } == withoutGrad { reference(tokens).scalars })
  }
}
