import Awesomegrad
import AwesomegradModels
import Foundation
import Testing

/// Generation with the KV cache against `transformers`' `generate(do_sample=False, use_cache=True)`.
@Suite struct GenerationTests {
  /// Greedy continuations of 20 tokens, end-of-sequence stopping off, identical to transformers'
  /// for every prompt (the fixture's smallest top-1/top-2 margin is 0.0115, far above float noise).
  @Test(arguments: ["gpt2", "llama", "llama_sharded"])
  func greedyContinuationsAreIdentical(_ name: String) throws {
    let model = try LogitsTests.load(name)
    let expected = HFFixture.model(name == "llama_sharded" ? "llama" : name)
    for prompt in expected["prompts"] as! [[String: Any]] {
      let ids = ints(prompt["ids"])
      let new = model.generate(ids, options: GenerationOptions(maxNewTokens: 20, stopTokens: []))
      #expect(new == ints(prompt["greedy_new_ids"]), "\(name), prompt of \(ids.count)")
    }
  }

  /// The logits that chose the 20th token, computed through the cache one token at a time, equal
  /// transformers' cache-free logits at that position to 1e-4.
  @Test(arguments: ["gpt2", "llama"])
  func cachedStepsGiveTheCacheFreeLogits(_ name: String) throws {
    let model = try LogitsTests.load(name)
    for prompt in HFFixture.model(name)["prompts"] as! [[String: Any]] {
      let ids = ints(prompt["ids"]), new = ints(prompt["greedy_new_ids"])
      let cache = model.makeCache(batchSize: 1, capacity: ids.count + 19)
      var logits = withoutGrad {
        model.logits(
          IndexTensor(ids, shape: [1, ids.count]), positions: nil, keyMask: nil, cache: cache, lastPositionOnly: true)
      }
      for token in new.prefix(19) {
        logits = withoutGrad {
          model.logits(IndexTensor([token], shape: [1, 1]), positions: nil, keyMask: nil, cache: cache, lastPositionOnly: true)
        }
      }
      #expect(cache.count == ids.count + 19)
      let difference = LogitsTests.maxDifference(logits.scalars, floats(prompt["greedy_final_step_logits"]))
      #expect(difference <= LogitsTests.tolerance, "\(name), prompt of \(ids.count): \(difference)")
    }
  }

  /// A batch of prompts of different lengths, padded on the left and masked, continues each prompt
  /// as it continues alone.
  @Test(arguments: ["gpt2", "llama"])
  func batchedPromptsWithLeftPaddingMatchSinglePrompts(_ name: String) throws {
    let model = try LogitsTests.load(name)
    let prompts = (HFFixture.model(name)["prompts"] as! [[String: Any]]).map { ints($0["ids"]) }
    let options = GenerationOptions(maxNewTokens: 12, stopTokens: [])
    let batched = model.generate(batch: prompts, options: options)
    for (prompt, output) in zip(prompts, batched) {
      #expect(output == model.generate(prompt, options: options), "\(name), prompt of \(prompt.count)")
    }
  }

  /// Generation stops after the first stop token (included), and at the configuration's EOS by default.
  @Test func stopsAtTheStopToken() throws {
    let model = try LogitsTests.load("gpt2")
    let ids = ints((HFFixture.model("gpt2")["prompts"] as! [[String: Any]])[1]["ids"])
    let free = model.generate(ids, options: GenerationOptions(maxNewTokens: 20, stopTokens: []))
    let stop = free[5]
    let stopped = model.generate(ids, options: GenerationOptions(maxNewTokens: 20, stopTokens: [stop]))
    #expect(stopped == Array(free.prefix(through: free.firstIndex(of: stop)!)))
    #expect(model.configuration.eosTokenIDs == [0])
  }

  /// Sampling is reproducible by seed; top-k = 1 is greedy; a tiny top-p keeps only the best token.
  @Test func samplingOptions() throws {
    let model = try LogitsTests.load("llama")
    let ids = [5, 17, 230]
    func run(_ selection: TokenSelection, seed: UInt64) -> [Int] {
      model.generate(ids, options: GenerationOptions(maxNewTokens: 15, selection: selection, seed: seed, stopTokens: []))
    }
    let greedy = run(.greedy, seed: 0)
    let sampled = run(.sampling(temperature: 1.5), seed: 7)
    #expect(sampled == run(.sampling(temperature: 1.5), seed: 7))
    #expect(sampled != run(.sampling(temperature: 1.5), seed: 8))
    #expect(run(.sampling(temperature: 0.7, topK: 1), seed: 3) == greedy)
    #expect(run(.sampling(temperature: 1, topP: 1e-6), seed: 3) == greedy)
  }
}
