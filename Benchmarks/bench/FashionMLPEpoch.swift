import Awesomegrad

/// One epoch of the Fashion-MNIST example's training: MLP 784-256-128-10 with ReLU, Adam (lr 1e-3),
/// batch 64, Float, 60,000 samples in a new shuffled order each epoch.
///
/// The data is synthetic (seeded Gaussian pixels, uniform labels) with the real data set's shape, so
/// the benchmark needs no download; a step costs the same whatever the pixel values are.
final class FashionMLPEpoch: Workload {
  static let name = "fashion-mlp-epoch"
  static let engine = "awesomegrad"
  static let dtype = "float32"
  static let defaultSteps = 1
  static let warmUpSteps = 1

  static let samples = 60_000
  static let features = 784
  static let batch = 64
  /// Batches run by `warmUp`: enough to settle caches without a whole extra epoch.
  static let warmUpBatches = 50

  let images: [Float]
  let labels: [Int]
  let model: DenseNetwork<Float>
  let optimizer: InlineAdam<Float>
  var rng = SeededGenerator(seed: 1)

  init() {
    var dataRNG = SeededGenerator(seed: 0)
    images = Tensor<Float>.randomNormal([Self.samples, Self.features], using: &dataRNG).scalars
    labels = (0..<Self.samples).map { _ in Int.random(in: 0..<10, using: &dataRNG) }
    model = DenseNetwork(
      sizes: [784, 256, 128, 10], activation: { $0.relu() }, initScale: { 1 / Float($0).squareRoot() },
      using: &dataRNG)
    optimizer = InlineAdam(model.parameters, learningRate: 1e-3)
  }

  /// One epoch: shuffle, then for each batch gather its rows, forward, loss, backward, Adam.
  func step() {
    runBatches(Int.max)
  }

  func warmUp() { runBatches(Self.warmUpBatches) }

  private func runBatches(_ limit: Int) {
    let order = (0..<Self.samples).shuffled(using: &rng)
    var start = 0
    var done = 0
    var batchValues = [Float](repeating: 0, count: Self.batch * Self.features)
    while start < Self.samples && done < limit {
      let rows = min(Self.batch, Self.samples - start)
      var batchLabels = [Int](repeating: 0, count: rows)
      batchValues.withUnsafeMutableBufferPointer { dst in
        images.withUnsafeBufferPointer { src in
          for r in 0..<rows {
            let sample = order[start + r]
            batchLabels[r] = labels[sample]
            let from = src.baseAddress! + sample * Self.features
            (dst.baseAddress! + r * Self.features).update(from: from, count: Self.features)
          }
        }
      }
      let x = Tensor(Array(batchValues[0..<(rows * Self.features)]), shape: [rows, Self.features])
      let loss = crossEntropy(model(x), labels: batchLabels)
      loss.backward()
        withoutGrad { optimizer.step() }
      start += rows
      done += 1
    }
  }

  var extraFields: [(String, JSONValue)] {
    [("data", .string("synthetic")), ("step_unit", .string("epoch")), ("batches_per_step", .int((Self.samples + Self.batch - 1) / Self.batch))]
  }
}
