import AwesomegradDatasets
import Testing

@testable import Awesomegrad

/// Trains a small MLP with dropout and Adam on moons, everything made inside from `seed`, and returns
/// the losses and the final parameters: plain `[Double]`, which is `Sendable`, so it can leave the task.
/// Nothing here is shared: the model, its tensors and its generators live and die in the caller's task.
func trainIndependently(seed: UInt64) async -> [Double] {
  var rng = SeededGenerator(seed: seed)
  let (x, labels) = moons(n: 64, noise: 0.1, as: Double.self, using: &rng)
  let model = Sequential<Double>(
    Linear(inputs: 2, outputs: 32, using: &rng), Tanh(), Dropout(probability: 0.2, using: &rng),
    Linear(inputs: 32, outputs: 2, using: &rng))
  let optimizer = Adam(model.parameters, learningRate: 0.01)
  var record: [Double] = []
  for _ in 0..<60 {
    optimizer.zeroGrad()
    let loss = crossEntropy(model(x), labels: labels)
    loss.backward()
    optimizer.step()
    record.append(loss.item())
    await Task.yield()  // let the other task interleave
  }
  model.eval()
  record.append(withoutGrad { crossEntropy(model(x), labels: labels).item() })
  return record + model.parameters.flatMap(\.scalars)
}

@Suite struct ConcurrencyTests {
  /// Two models trained at the same time in separate child tasks end bit-for-bit where they end when
  /// trained one after the other: no hidden shared state (random generators, grad mode, optimizer
  /// state) leaks between them.
  @Test func concurrentTrainingMatchesSequential() async {
    let sequentialA = await trainIndependently(seed: 1)
    let sequentialB = await trainIndependently(seed: 2)
    async let concurrentA = trainIndependently(seed: 1)
    async let concurrentB = trainIndependently(seed: 2)
    let (a, b) = await (concurrentA, concurrentB)
    #expect(a == sequentialA)
    #expect(b == sequentialB)
    #expect(a != b)
  }

  /// Eight tasks in a task group, half of them evaluating under withoutGrad: grad mode is task-local,
  /// so the training tasks still record graphs and match the sequential run.
  @Test func taskGroupWithNoGradNeighbours() async {
    let expected = await trainIndependently(seed: 3)
    let results = await withTaskGroup(of: [Double]?.self) { group in
      for i in 0..<8 {
        group.addTask {
          if i.isMultiple(of: 2) { return await trainIndependently(seed: 3) }
          return await withoutGrad {
            for _ in 0..<50 { await Task.yield() }
            return nil
          }
        }
      }
      var results: [[Double]] = []
      for await result in group { if let result { results.append(result) } }
      return results
    }
    #expect(results.count == 4)
    #expect(results.allSatisfy { $0 == expected })
  }
}
