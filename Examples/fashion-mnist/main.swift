// Trains an MLP 784-256-128-10 (ReLU) or a small CNN (--model cnn, see Models.swift) on Fashion-MNIST
// with Adam, in Float, and reports the training loss, test accuracy and time of each epoch.
//
//     swift run -c release fashion-mnist --epochs 1
//     swift run -c release fashion-mnist --model cnn --epochs 2 --json
import ArgumentParser
import Awesomegrad
import Foundation

struct FashionMNIST: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "fashion-mnist",
    abstract: "Train an MLP 784-256-128-10 or a small CNN on Fashion-MNIST with Adam (Float).",
    discussion: """
      Reads the four IDX files (train-images-idx3-ubyte.gz, ...) from --data. Install them with
      `sudo apt-get install dataset-fashion-mnist` or `make fashion`.
      """)

  @Option(help: "The directory holding the Fashion-MNIST IDX files.")
  var data = "/usr/share/datasets/fashion-mnist"

  @Option(help: "The network: mlp (784-256-128-10) or cnn (two 3×3 convolutions, see Models.swift).")
  var model: ModelKind = .mlp

  @Flag(help: "Print one JSON object (model, epochs, test_accuracy, seconds_per_epoch) instead of the log.")
  var json = false

  @Option(help: "Passes over the training set.")
  var epochs = 1

  @Option(help: "Images per mini-batch.")
  var batchSize = 64

  @Option(help: "Adam's learning rate.")
  var lr = 1e-3

  @Option(help: "Seed for the initial weights and the shuffling.")
  var seed: UInt64 = 0

  @Option(help: "BLAS threads.")
  var threads = 1

  @Flag(
    inversion: .prefixedNo,
    help: """
      Standardise pixels with the training set's mean and standard deviation (else scale to [0, 1]). \
      Default: on for --model cnn, off for mlp.
      """)
  var normalize: Bool?

  func validate() throws {
    guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1.") }
    guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1.") }
  }

  mutating func run() throws {
    setBLASThreadCount(threads)
    keepFreedMemoryForReuse()  // reuse freed activation buffers across steps (see its doc comment)
    let start = Date()
    let dataset: MNISTDataset
    do {
      dataset = try MNISTDataset(
        directory: data,
        hint: "Install Fashion-MNIST with `sudo apt-get install dataset-fashion-mnist` (or `make fashion`), "
          + "or pass --data DIR with the four IDX files.")
    } catch {
      FileHandle.standardError.write(Data("error: \(error)\n".utf8))
      throw ExitCode.failure
    }
    let (train, test) = (dataset.train, dataset.test)
    log(
      "Loaded \(train.count) training and \(test.count) test images in "
        + String(format: "%.2f s", Date().timeIntervalSince(start)))

    var mean: Float = 0, standardDeviation: Float = 1
    let standardise = normalize ?? (model == .cnn)
    if standardise {
      let pixels = train.pixels.map { Double($0) / 255 }
      let m = pixels.reduce(0, +) / Double(pixels.count)
      let variance = pixels.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(pixels.count)
      (mean, standardDeviation) = (Float(m), Float(variance.squareRoot()))
    }

    var rng = SeededGenerator(seed: seed)
    let (model, summary) = self.model.make(using: &rng)
    let optimizer = Adam(model.parameters, learningRate: lr)
    let pixels =
      standardise
      ? String(format: "pixels standardised (mean %.4f, sd %.4f)", mean, standardDeviation)
      : "pixels in [0, 1]"
    log("\(summary); Adam lr \(lr), batch \(batchSize), seed \(seed); \(pixels)")

    let interactive = isatty(STDOUT_FILENO) != 0 && !json
    var accuracy = 0.0, trainingSeconds = 0.0
    for epoch in 1...epochs {
      let epochStart = Date()
      model.train()
      let batches = MiniBatches(count: train.count, batchSize: batchSize, shuffle: true, using: &rng)
      var lossSum = 0.0, seen = 0
      for (b, indices) in batches.enumerated() {
        let x = train.batch(indices, mean: mean, standardDeviation: standardDeviation, as: Float.self)
        let labels = indices.map { train.labels[$0] }
        optimizer.zeroGrad()
        let loss = crossEntropy(model(x), labels: labels)
        loss.backward()
        optimizer.step()
        lossSum += Double(loss.item()) * Double(indices.count)
        seen += indices.count
        if interactive {  // one update per batch, rewriting the same line
          print(
            String(
              format: "\repoch %d  batch %d/%d  loss %.4f", epoch, b + 1, batches.batchCount,
              lossSum / Double(seen)),
            terminator: "")
          fflush(nil)  // all streams: `stdout` is a C global Swift 6 will not touch
        }
      }
      if interactive { print() }
      trainingSeconds += Date().timeIntervalSince(epochStart)
      accuracy = evaluate(model, on: test, mean: mean, standardDeviation: standardDeviation)
      log(
        String(
          format: "epoch %d  train loss %.4f  test accuracy %.2f%%  %.2f s", epoch, lossSum / Double(seen),
          100 * accuracy, Date().timeIntervalSince(epochStart)))
    }
    if json {
      // seconds_per_epoch: training time only (the test-set evaluation after each epoch excluded).
      print(
        "{\"model\": \"\(self.model.rawValue)\", \"epochs\": \(epochs), \"test_accuracy\": \(accuracy), "
          + "\"seconds_per_epoch\": \(trainingSeconds / Double(epochs))}")
    }
  }

  /// Prints a line of the human-readable log; nothing with `--json`, whose one object is the output.
  func log(_ line: String) {
    if !json { print(line) }
  }

  /// The fraction of `split` whose largest logit is at the true label; no graph is recorded.
  func evaluate(_ model: Module<Float>, on split: MNISTSplit, mean: Float, standardDeviation: Float) -> Double
  {
    model.eval()
    defer { model.train() }
    return withoutGrad {
      var correct = 0
      for indices in MiniBatches(count: split.count, batchSize: 1000) {
        let logits = model(
          split.batch(indices, mean: mean, standardDeviation: standardDeviation, as: Float.self))
        let values = logits.scalars
        for (row, index) in indices.enumerated() {
          let scores = values[(row * 10)..<(row * 10 + 10)]
          let predicted = scores.indices.max { scores[$0] < scores[$1] }! - row * 10
          if predicted == split.labels[index] { correct += 1 }
        }
      }
      return Double(correct) / Double(split.count)
    }
  }
}

// Top-level code rather than @main: the target has more than one file (Models.swift), and a file named
// main.swift is then the entry point.
FashionMNIST.main()
