import Awesomegrad
import AwesomegradModels
import AwesomegradTokenizers
import Foundation
import Testing

/// Saving back to the Hugging Face layout and LoRA. (That `transformers` and PEFT load what is
/// saved here is checked by `make hf-interop`, with Python.)
@Suite struct SavingTests {
  static func temporaryDirectory() -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("awesomegrad-hf-\(UInt64.random(in: 0...UInt64.max))")
  }

  /// A model saved and loaded again gives the same logits, and the folder holds exactly the
  /// fixture's tensor names, shapes and the tokenizer.
  @Test(arguments: ["gpt2", "llama", "gpt2_bf16"])
  func savedModelsLoadBackWithTheSameLogits(_ name: String) throws {
    let model = try LogitsTests.load(name)
    let tokenizer = try BPETokenizer(contentsOf: HFFixture.path("tokenizer/tokenizer.json"))
    let directory = Self.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    try model.save(to: directory, tokenizer: tokenizer)
    let file = try SafeTensorsFile(contentsOf: directory.appendingPathComponent("model.safetensors").path)
    #expect(file.metadata == ["format": "pt"])
    let expected = HFFixture.model(name == "gpt2_bf16" ? "gpt2" : name)["tensors"] as! [String: [String: Any]]
    #expect(Set(file.names) == Set(expected.keys))
    for (tensor, entry) in expected { #expect(file.entries[tensor]?.shape == ints(entry["shape"])) }
    let reloaded = try loadCausalLanguageModel(from: directory.path)
    #expect(reloaded.configuration.architecture == model.configuration.architecture)
    #expect(try BPETokenizer(contentsOf: directory.appendingPathComponent("tokenizer.json").path).json == tokenizer.json)
    let tokens = IndexTensor([3, 99, 250, 7, 7, 400], shape: [1, 6])
    #expect(withoutGrad { reloaded(tokens).scalars } == withoutGrad { model(tokens).scalars })
  }

  /// LoRA: adapters start at zero (B = 0), so the model is unchanged; only the adapters train; the
  /// merged model computes what the adapted one does; the adapters save under PEFT's names.
  @Test(arguments: ["gpt2", "llama"])
  func loraTrainsAdaptersAndMerges(_ name: String) throws {
    let model = try LogitsTests.load(name)
    let tokens = IndexTensor(Array(40..<72), shape: [2, 16])
    let before = withoutGrad { model(tokens).scalars }
    let adapted = model.addLoRA(rank: 4, alpha: 8)
    #expect(adapted.count == (name == "gpt2" ? 2 : 4))
    #expect(withoutGrad { model(tokens).scalars } == before)
    #expect(model.trainableParameters.allSatisfy { $0.name.contains(".lora_") })
    let frozen = model.namedParameters.filter { !$0.name.contains(".lora_") }.map { ($0.name, $0.tensor.scalars) }
    let optimizer = AdamW(model.trainableParameters.map(\.tensor), learningRate: 0.01)
    var losses: [Float] = []
    for _ in 0..<3 {
      optimizer.zeroGrad()
      let loss = model.loss(tokens)
      loss.backward()
      optimizer.step()
      losses.append(loss.item())
    }
    #expect(losses.last! < losses.first!)
    for (parameter, values) in frozen {
      #expect(model.namedParameters.first { $0.name == parameter }!.tensor.scalars == values, "\(parameter) changed")
    }
    let merged = model.mergingLoRA()
    #expect(merged.namedParameters.map(\.name) == LogitsTests.loadNames(name))
    let difference = LogitsTests.maxDifference(
      withoutGrad { merged(tokens).scalars }, withoutGrad { model(tokens).scalars })
    #expect(difference <= 1e-5)
    #expect(difference > 0 || losses.first! == losses.last!)

    let directory = Self.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    try model.saveAdapters(to: directory, baseModel: "base")
    let adapters = try SafeTensorsFile(contentsOf: directory.appendingPathComponent("adapter_model.safetensors").path)
    let expectedNames = adapted.flatMap { ["base_model.model.\($0).lora_A.weight", "base_model.model.\($0).lora_B.weight"] }
    #expect(adapters.names == expectedNames.sorted())
    let config = try JSONSerialization.jsonObject(
      with: Data(contentsOf: directory.appendingPathComponent("adapter_config.json"))) as! [String: Any]
    #expect(config["r"] as? Int == 4 && config["peft_type"] as? String == "LORA")
    #expect(config["fan_in_fan_out"] as? Bool == (name == "gpt2"))
  }
}

extension LogitsTests {
  /// The parameter names of the fixture model `name`, in order.
  static func loadNames(_ name: String) -> [String] { try! load(name).namedParameters.map(\.name) }
}
