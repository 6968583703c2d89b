import Awesomegrad
import AwesomegradDatasets
import Foundation

/// One training epoch of the Fashion-MNIST example: MLP 784-256-128-10 with ReLU (PyTorch's default
/// initialisation), Adam (lr 1e-3), batch 64, Float, the 60,000 training images in a new shuffled
/// order, pixels scaled to [0, 1]. Each batch is the example's loop body:
///
///     x = train.batch(indices); labels = indices.map { train.labels[$0] }
///     optimizer.zeroGrad(); loss = crossEntropy(model(x), labels: labels)
///     loss.backward(); optimizer.step(); lossSum += loss.item() · indices.count
///
/// The data is the real training set when Debian's `dataset-fashion-mnist` is installed (`make
/// fashion` installs it), else synthetic pixels of the same shape gathered with `gatheringRows`; the
/// JSON line says which (`"data"`). The test-set evaluation after the epoch is not part of the step.
final class FashionMLPEpoch: Workload {
  static let name = "fashion-mlp-epoch"
  static let engine = "awesomegrad"
  static let dtype = "float32"
  static let defaultSteps = 1
  static let warmUpSteps = 1
  static let countedSteps = 1

  /// Where Debian's `dataset-fashion-mnist` puts the IDX files (the example's default `--data`).
  static let directory = "/usr/share/datasets/fashion-mnist"
  static let samples = 60_000
  static let batchSize = 64
  /// Batches run by `warmUp`: enough to settle caches and Adam's state without a whole extra epoch.
  static let warmUpBatches = 50

  let data: TrainingImages
  let model: MLP<Float>
  let optimizer: Adam<Float>
  var generator = SeededGenerator(seed: 0)
  /// The mean training loss of the first whole epoch (the first timed step), to check against the
  /// reference's; the loss is read each batch as the example reads it.
  private(set) var firstEpochLoss: Double?

  init() {
    data = TrainingImages(directory: Self.directory, syntheticCount: Self.samples)
    model = MLP(inputs: 784, hiddenSizes: [256, 128], outputs: 10, activation: .relu, using: &generator)
    optimizer = Adam(model.parameters, learningRate: 1e-3)
  }

  func step() {
    let loss = train(batchLimit: Int.max)
    if firstEpochLoss == nil { firstEpochLoss = loss }
  }

  func warmUp() { _ = train(batchLimit: Self.warmUpBatches) }

  /// Trains on up to `batchLimit` batches of a new epoch; returns their mean loss.
  private func train(batchLimit: Int) -> Double {
    let batches = MiniBatches(count: data.count, batchSize: Self.batchSize, shuffle: true, using: &generator)
    var lossSum = 0.0, seen = 0
    for indices in batches.prefix(batchLimit) {
      let (x, labels) = data.batch(indices)
      optimizer.zeroGrad()
      let loss = crossEntropy(model(x), labels: labels)
      loss.backward()
      optimizer.step()
      lossSum += Double(loss.item()) * Double(indices.count)
      seen += indices.count
    }
    return lossSum / Double(max(seen, 1))
  }

  var extraFields: [(String, JSONValue)] {
    [
      ("data", .string(data.source)), ("step_unit", .string("epoch")),
      ("batches_per_step", .int((data.count + Self.batchSize - 1) / Self.batchSize)),
      ("mean_loss", firstEpochLoss.map(JSONValue.double) ?? .null),
    ]
  }
}

/// The training images of Fashion-MNIST, or synthetic ones of the same shape when the data set is
/// not installed.
enum TrainingImages {
  case fashionMNIST(MNISTSplit)
  /// `[count, 784]` pixels in [0, 1) and a label 0…9 per image.
  case synthetic(images: Tensor<Float>, labels: [Int])

  init(directory: String, syntheticCount: Int) {
    if let dataset = try? MNISTDataset(directory: directory) {
      self = .fashionMNIST(dataset.train)
    } else {
      var generator = SeededGenerator(seed: 42)
      let images = Tensor<Float>.randomUniform([syntheticCount, 784], low: 0, high: 1, using: &generator)
      let labels = (0..<syntheticCount).map { _ in Int.random(in: 0..<10, using: &generator) }
      self = .synthetic(images: images, labels: labels)
    }
  }

  /// `"fashion-mnist"` or `"synthetic"`, for the JSON line.
  var source: String {
    if case .fashionMNIST = self { return "fashion-mnist" }
    return "synthetic"
  }

  var count: Int {
    switch self {
    case .fashionMNIST(let split): split.count
    case .synthetic(_, let labels): labels.count
    }
  }

  /// The images `indices` as `[indices.count, 784]` and their labels.
  func batch(_ indices: [Int]) -> (Tensor<Float>, [Int]) {
    switch self {
    case .fashionMNIST(let split):
      (split.batch(indices, as: Float.self), indices.map { split.labels[$0] })
    case .synthetic(let images, let labels):
      (images.gatheringRows(indices), indices.map { labels[$0] })
    }
  }
}
