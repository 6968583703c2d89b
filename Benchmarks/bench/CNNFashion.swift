import Awesomegrad
import Foundation

/// One Adam step (lr 1e-3) of the Fashion-MNIST example's CNN on a batch of 64 in Float:
///
///     conv(1→32, 3×3, pad 1) → ReLU → maxpool 2 → conv(32→64, 3×3, pad 1) → ReLU → maxpool 2
///     → flatten → linear(3136→128) → ReLU → linear(128→10), cross-entropy
///
/// with PyTorch's default initialisation, written as a user would:
///
///     optimizer.zeroGrad(); crossEntropy(model(x), labels: labels).backward(); optimizer.step()
///
/// The batches are the first 16 × 64 training images (pixels in [0, 1]) when Debian's
/// `dataset-fashion-mnist` is installed, else synthetic ones; steps cycle through them, so the
/// batch is built before timing. The JSON line reports the data, the GFLOP/s and the convolutions'
/// unfolded-column workspace (`workspace_bytes`, the largest any layer allocates). It also reports
/// `cpu_median_us`, the median CPU time of this thread per step: on a shared machine the wall time
/// includes waiting for a core, the thread's CPU time much less so.
final class CNNFashion: Workload {
  static let name = "cnn-fashion"
  static let engine = "awesomegrad"
  static let dtype = "float32"
  static let defaultSteps = 30
  static let warmUpSteps = 5

  static let batchSize = 64
  static let batchCount = 16

  let batches: [(Tensor<Float>, [Int])]
  let source: String
  let model: Sequential<Float>
  let convolutions: [Conv2d<Float>]
  let optimizer: Adam<Float>
  var next = 0
  /// The thread CPU time of each step, warm-up included, in microseconds.
  var cpuTimes: [Double] = []

  init() {
    let data = TrainingImages(
      directory: FashionMLPEpoch.directory, syntheticCount: Self.batchSize * Self.batchCount)
    source = data.source
    batches = (0..<Self.batchCount).map { b in
      let (x, labels) = data.batch(Array((b * Self.batchSize)..<((b + 1) * Self.batchSize)))
      return (x.reshaped([Self.batchSize, 1, 28, 28]), labels)
    }
    var generator = SeededGenerator(seed: 0)
    (model, convolutions) = Self.makeModel(using: &generator)
    optimizer = Adam(model.parameters, learningRate: 1e-3)
  }

  /// The example's CNN with PyTorch's default initialisation, and its two convolutions. It takes
  /// `[batch, 1, 28, 28]`.
  static func makeModel(using generator: inout SeededGenerator) -> (Sequential<Float>, [Conv2d<Float>]) {
    let conv1 = Conv2d<Float>(
      inputChannels: 1, outputChannels: 32, kernelSize: 3, padding: 1, using: &generator)
    let conv2 = Conv2d<Float>(
      inputChannels: 32, outputChannels: 64, kernelSize: 3, padding: 1, using: &generator)
    let model = Sequential(
      conv1, ReLU(), MaxPool2d(kernelSize: 2), conv2, ReLU(), MaxPool2d(kernelSize: 2), Flatten(),
      Linear(inputs: 3136, outputs: 128, using: &generator), ReLU(),
      Linear(inputs: 128, outputs: 10, using: &generator))
    return (model, [conv1, conv2])
  }

  func step() {
    let start = threadCPUMicroseconds()
    defer { cpuTimes.append(threadCPUMicroseconds() - start) }
    let (x, labels) = batches[next]
    next = (next + 1) % batches.count
    optimizer.zeroGrad()
    let loss = crossEntropy(model(x), labels: labels)
    loss.backward()
    optimizer.step()
  }

  /// The products of a step, 2·m·n·k each: per convolution the forward one and ∂W, and ∂input for
  /// the second (the first's input is data); per linear layer forward, ∂W and ∂input.
  var flopsPerStep: Double? {
    let b = Double(Self.batchSize)
    let conv1 = 2 * b * 32 * 9 * 28 * 28, conv2 = 2 * b * 64 * 288 * 14 * 14
    let fc1 = 2 * b * 3136 * 128, fc2 = 2 * b * 128 * 10
    return 2 * conv1 + 3 * conv2 + 3 * fc1 + 3 * fc2
  }

  var extraFields: [(String, JSONValue)] {
    let shapes = [[Self.batchSize, 1, 28, 28], [Self.batchSize, 32, 14, 14]]
    let workspace = zip(convolutions, shapes).map { $0.workspaceCount(inputShape: $1) }.max() ?? 0
    return [
      ("data", .string(source)), ("batch", .int(Self.batchSize)),
      ("workspace_bytes", .int(workspace * MemoryLayout<Float>.size)),
      ("cpu_median_us", cpuTimes.isEmpty ? .null : .double(median(cpuTimes))),
    ]
  }
}

/// The CPU time this thread has used, in microseconds (`CLOCK_THREAD_CPUTIME_ID`).
func threadCPUMicroseconds() -> Double {
  var time = timespec()
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
  return Double(time.tv_sec) * 1e6 + Double(time.tv_nsec) / 1e3
}
