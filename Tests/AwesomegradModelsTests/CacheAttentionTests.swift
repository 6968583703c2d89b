@testable import Awesomegrad
import AwesomegradModels
import Foundation
import Testing

/// Decoding through the KV cache runs the fused attention kernel over the cache in place.
@Suite struct CacheAttentionTests {
  /// A decode step (one new token) attends through `cachedAttention`: the fused kernel computes one
  /// tile of scores per head and layer (the recorder counts them), and the largest attention scratch
  /// it allocates is one tile's work space, 1 × S scores plus the row's running max, sum and rescale
  /// factor ((9 + 3) floats for S = 9 positions): never the `[B·H, 1, S]` weights of every head that
  /// the two-product path keeps.
  @Test(arguments: ["gpt2", "llama"])
  func decodeStepRunsTheFusedKernelOverTheCache(_ name: String) throws {
    let model = try LogitsTests.load(name)
    let ids = [3, 1, 4, 1, 5, 9, 2, 6]
    let cache = model.makeCache(batchSize: 1, capacity: model.configuration.contextLength)
    #expect(cache.capacity == model.configuration.contextLength)
    _ = withoutGrad {
      model.logits(IndexTensor(ids, shape: [1, ids.count]), positions: nil, keyMask: nil, cache: cache, lastPositionOnly: true)
    }
    let recorder = AttentionWorkspace()
    AttentionWorkspace.$recorder.withValue(recorder) {
      _ = withoutGrad {
        model.logits(IndexTensor([7], shape: [1, 1]), positions: nil, keyMask: nil, cache: cache, lastPositionOnly: true)
      }
    }
    let (heads, layers) =
      switch model.configuration.architecture {
      case .gpt2(let c): (c.heads, c.layers)
      case .llama(let c): (c.heads, c.layers)
      }
    #expect(cache.count == ids.count + 1)
    // One tile of 9 keys per (head, layer): the whole cache fits one key tile.
    #expect(recorder.tilesComputed == heads * layers, "\(name): \(recorder.tilesComputed) tiles")
    let oneTile = (ids.count + 1 + 3) * MemoryLayout<Float>.stride
    #expect(recorder.largestAllocation > 0)
    #expect(recorder.largestAllocation <= oneTile, "\(name): \(recorder.largestAllocation) bytes")
  }
}
