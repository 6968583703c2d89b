// Trains an MLP 784-256-128-10 (ReLU) or a small CNN (--model cnn, see Models.swift) on Fashion-MNIST
// with Adam, in Float, and reports the training loss, test accuracy and time of each epoch.
//
//     swift run -c release fashion-mnist --epochs 1
//     swift run -c release fashion-mnist --model cnn --epochs 2 --json
import ArgumentParser
import Awesomegrad
import AwesomegradDatasets
import ExamplePlots
import Foundation

// Started by the last line: a main.swift with other files in its module runs top-level code, not @main.
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

  @Option(help: "Passes over the training set.")
  var epochs = 1

  @Option(help: "Images per mini-batch.")
  var batchSize = 64

  @Option(
    help: """
      Stop after this many global batches (optimizer steps), even inside an epoch; --json then reports \
      steps and seconds_per_step (seconds_per_epoch counts whole epochs only: null if none finished).
      """)
  var maxSteps: Int?

  @Option(help: "Adam's learning rate.")
  var lr = 1e-3

  @Option(help: "Seed for the initial weights and the shuffling.")
  var seed: UInt64 = 0

  @Option(help: "The library's one thread count (setThreadCount): its pool and its matrix products.")
  var threads = 1

  @Option(help: "Save the trained model's state dict to this safetensors file (PyTorch's names).")
  var save: String?

  @Option(help: "Load the model's state dict from this safetensors file before training; with --epochs 0, only evaluate it.")
  var load: String?

  @Flag(
    help: """
      Print the BLAS backend first: OpenBLAS version, kernel (core), threads, kernel correction; with \
      --distributed, also the MPI job: ranks, hosts and the transport settings with who chose them.
      """)
  var verbose = false

  @Flag(
    inversion: .prefixedNo,
    help: """
      Standardise pixels with the training set's mean and standard deviation (else scale to [0, 1]). \
      Default: on for --model cnn, off for mlp.
      """)
  var normalize: Bool?

  @Option(help: "Write the training loss and the test accuracy per epoch as an SVG file.")
  var lossSvg: String?

  @Flag(help: "Check every op for NaN and infinity (withAnomalyDetection); slower.")
  var detectAnomaly = false

  @Flag(help: "Print the model and its summary table before training.")
  var summary = false

  @Flag(
    help: """
      Train data-parallel over the ranks of an MPI job (mpirun -np N ...); --batch-size is per rank. \
      Without mpirun it runs as one rank. See DistributedTraining.swift.
      """)
  var distributed = false

  @Flag(
    help: """
      With --distributed: average the gradients during backward, each bucket's MPI_Iallreduce started \
      as soon as its gradients are final (PyTorch DDP's overlap; for ranks on several machines). \
      Without it they are averaged after backward, through shared memory within a machine.
      """)
  var overlap = false

  @Flag(
    help:
      "Print one final JSON object (model, epochs, test_accuracy, seconds_per_epoch, steps, seconds_per_step; ranks when distributed)."
  )
  var json = false

  @Option(
    help: """
      Keep training checkpoints (model, Adam state, step, epoch, shuffle) in this folder: resume from \
      its newest valid one on start, write one every --checkpoint-every steps, at the end, and on \
      SIGINT or SIGTERM (then exit; a second signal exits at once). With --distributed rank 0 writes.
      """)
  var checkpointDir: String?

  @Option(help: "With --checkpoint-dir: write a checkpoint every N steps (mini-batches).")
  var checkpointEvery = 500

  @Option(help: "With --checkpoint-dir: how many checkpoints to keep.")
  var keepCheckpoints = 2

  func validate() throws {
    guard epochs >= 1 || (epochs == 0 && load != nil) else {
      throw ValidationError("--epochs must be at least 1 (0 only with --load, to evaluate a saved model).")
    }
    guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1.") }
    guard maxSteps.map({ $0 >= 1 }) ?? true else { throw ValidationError("--max-steps must be at least 1.") }
    guard !overlap || distributed else { throw ValidationError("--overlap needs --distributed.") }
    guard checkpointEvery >= 1, keepCheckpoints >= 1 else {
      throw ValidationError("--checkpoint-every and --keep-checkpoints must be at least 1.")
    }
  }

  mutating func run() throws {
    // Installed first, so that a signal during the set-up already waits for a checkpoint.
    let stop = checkpointDir != nil ? StopSignal() : nil
    if distributed { return try runDistributed(stop: stop) }
    setThreadCount(threads)
    keepFreedMemoryForReuse()  // reuse freed activation buffers across steps (see its doc comment)
    if verbose { print("BLAS: \(BLASBackend.current)\n      \(BLASBackend.current.config)") }
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
    let (model, description) = self.model.make(using: &rng)
    let optimizer = Adam(model.parameters, learningRate: lr)
    let pixels =
      standardise
      ? String(format: "pixels standardised (mean %.4f, sd %.4f)", mean, standardDeviation)
      : "pixels in [0, 1]"
    log("\(description); Adam lr \(lr), batch \(batchSize), seed \(seed); \(pixels)")
    if let load { try loadCheckpoint(into: model, from: load) }

    if summary {
      print(model)
      print(model.summary(inputShape: [batchSize, train.featureCount]))
    }

    // The shuffles come from state.generator from here on, which checkpoints save and restore.
    var state = TrainingState(generator: rng)
    let checkpoint = TrainingCheckpoint(model: model, optimizers: [optimizer])
    let checkpoints = checkpointDir.map { CheckpointDirectory($0, keep: keepCheckpoints) }
    if let checkpoints {
      do {
        if let resumed = try checkpoints.resume(checkpoint) {
          state = resumed.state
          note(
            "resumed from step \(state.step) (\(state.epoch) epochs and \(state.batchInEpoch) batches done) "
              + "(\(resumed.path))")
        }
      } catch {
        note("error: \(error)")
        throw ExitCode.failure
      }
    }
    var savedStep: Int?
    /// Writes the checkpoint of the last completed step (or epoch); a write that fails is reported and
    /// training goes on (a later checkpoint may succeed; the earlier ones are intact).
    func writeTrainingCheckpoint() -> Bool {
      guard let checkpoints, savedStep != state.step else { return true }
      do {
        try checkpoints.save(checkpoint, state)
        savedStep = state.step
        return true
      } catch {
        note("warning: \(error)")
        return false
      }
    }

    let interactive = isatty(STDOUT_FILENO) != 0 && !json
    // The loss curve: the mean loss of every 50 batches, and the test accuracy after each epoch.
    var lossPoints: [(x: Double, y: Double)] = [], accuracyPoints: [(x: Double, y: Double)] = []
    var windowSum = 0.0, windowCount = 0
    var trainingSeconds = state.values["training_seconds"] ?? 0, accuracy = 0.0  // for --json
    var wholeEpochSeconds =
      state.values[RunTiming.wholeEpochSecondsKey] ?? (state.batchInEpoch == 0 ? trainingSeconds : nil)
    if epochs == 0 {
      accuracy = evaluate(model, on: test, mean: mean, standardDeviation: standardDeviation)
      log(String(format: "test accuracy %.2f%%", 100 * accuracy))
    }
    while state.epoch < epochs && !RunTiming.isDone(state.step, maxSteps: maxSteps) {
      let epoch = state.epoch + 1
      let epochStart = Date()
      model.train()
      let batches = state.epochBatches(count: train.count, batchSize: batchSize)
      var lossSum = state.values["epoch_loss_sum"] ?? 0, seen = Int(state.values["epoch_seen"] ?? 0)
      for (b, indices) in batches.enumerated().dropFirst(state.batchInEpoch) {
        if RunTiming.isDone(state.step, maxSteps: maxSteps) { break }
        let x = train.batch(indices, mean: mean, standardDeviation: standardDeviation, as: Float.self)
        let labels = indices.map { train.labels[$0] }
        optimizer.zeroGrad()
        let loss = withAnomalyDetection(detectAnomaly) {
          let loss = crossEntropy(model(x), labels: labels)
          loss.backward()
          return loss
        }
        optimizer.step()
        state.finishStep()
        let step = state.step
        windowSum += Double(loss.item())
        windowCount += 1
        if windowCount == 50 {
          lossPoints.append((Double(step), windowSum / 50))
          (windowSum, windowCount) = (0, 0)
        }
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
        let stopping = stop?.isRequested ?? false
        if step % checkpointEvery == 0 || stopping {
          (state.values["epoch_loss_sum"], state.values["epoch_seen"]) = (lossSum, Double(seen))
          state.values["training_seconds"] = trainingSeconds + Date().timeIntervalSince(epochStart)
          let saved = writeTrainingCheckpoint()
          if stopping { stopRun(at: state, saved: saved, in: checkpoints!) }
        }
      }
      if interactive { print() }
      trainingSeconds += Date().timeIntervalSince(epochStart)
      accuracy = evaluate(model, on: test, mean: mean, standardDeviation: standardDeviation)
      accuracyPoints.append((Double(state.step), accuracy))
      log(
        String(
          format: "epoch %d  train loss %.4f  test accuracy %.2f%%  %.2f s", epoch, lossSum / Double(seen),
          100 * accuracy, Date().timeIntervalSince(epochStart)))
      if state.batchInEpoch < batches.batchCount {  // --max-steps ended the run inside this epoch
        (state.values["epoch_loss_sum"], state.values["epoch_seen"]) = (lossSum, Double(seen))
        state.values["training_seconds"] = trainingSeconds
        break
      }
      state.finishEpoch()
      wholeEpochSeconds = trainingSeconds
      state.values = ["training_seconds": trainingSeconds, RunTiming.wholeEpochSecondsKey: trainingSeconds]
    }
    if epochs > 0 {
      savedStep = nil  // the end of the last epoch: written even when its last step's checkpoint was
      _ = writeTrainingCheckpoint()
    }
    if let save { try saveCheckpoint(model, to: save) }
    if let lossSvg {
      let image = SVGPlot.trainingCurves(
        title: "Fashion-MNIST \(self.model.rawValue.uppercased()): training loss and test accuracy", xLabel: "step (batch)",
        losses: [
          .init(label: "training loss (mean of 50 batches)", points: lossPoints, color: SVGPlot.lossColor)
        ],
        accuracy: .init(
          label: "test accuracy", points: accuracyPoints, color: SVGPlot.accuracyColor, dashed: true))
      try image.write(toFile: lossSvg, atomically: true, encoding: .utf8)
      print("wrote \(lossSvg)")
    }
    if json {
      print(
        "{\"model\": \"\(self.model.rawValue)\", "
          + "\"epochs\": \(RunTiming.epochsBegun(epochs: state.epoch, batchInEpoch: state.batchInEpoch)), "
          + "\"test_accuracy\": \(String(format: "%.6g", accuracy)), "
          + RunTiming.jsonFields(
            steps: state.step, seconds: trainingSeconds, wholeEpochs: state.epoch,
            wholeEpochSeconds: wholeEpochSeconds) + "}")
    }
  }

  /// Prints `message` to stderr (whatever --json says): resuming, stopping, checkpoint warnings.
  func note(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
  }

  /// Ends the run after a stop signal: says where its checkpoint is and exits (status 0 when it was
  /// written, 1 when not).
  func stopRun(at state: TrainingState, saved: Bool, in checkpoints: CheckpointDirectory) -> Never {
    note(
      saved
        ? "stopped at step \(state.step) (\(state.epoch) epochs and \(state.batchInEpoch) batches done); checkpoint "
          + "\(checkpoints.filePath(step: state.step)); run the same command to resume"
        : "stopped at step \(state.step) without a checkpoint")
    Foundation.exit(saved ? 0 : 1)
  }

  /// Prints a line of the human-readable log; nothing with `--json`, whose one object is the output.
  func log(_ line: String) {
    if !json { print(line) }
  }

  /// The fraction of `split` whose largest logit is at the true label; no graph is recorded.
  func evaluate(_ model: Module<Float>, on split: MNISTSplit, mean: Float, standardDeviation: Float) -> Double {
    model.eval()
    defer { model.train() }
    return withoutGrad {
      var correct = 0
      for indices in MiniBatches(count: split.count, batchSize: 1000) {
        correct += correctPredictions(
          model, split, indices, mean: mean, standardDeviation: standardDeviation)
      }
      return Double(correct) / Double(split.count)
    }
  }
}

/// How many of the images at `indices` the model classifies correctly: the largest logit (the first,
/// on ties) is at the true label. Call it inside `withoutGrad`.
func correctPredictions(
  _ model: Module<Float>, _ split: MNISTSplit, _ indices: [Int], mean: Float, standardDeviation: Float
) -> Int {
  let logits = model(split.batch(indices, mean: mean, standardDeviation: standardDeviation, as: Float.self))
  let predicted = logits.argmax(axis: 1).scalars
  return zip(predicted, indices).filter { $0 == split.labels[$1] }.count
}

/// Loads `path` into `model`, or exits with one line naming the problem.
func loadCheckpoint(into model: Module<Float>, from path: String) throws {
  do {
    try model.load(from: path)
    FileHandle.standardError.write(Data("Loaded \(path)\n".utf8))
  } catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    throw ExitCode.failure
  }
}

/// Saves `model`'s state dict to `path`, or exits with one line naming the problem.
func saveCheckpoint(_ model: Module<Float>, to path: String) throws {
  do {
    try model.save(to: path, metadata: ["format": "pt", "source": "awesomegrad fashion-mnist"])
    FileHandle.standardError.write(Data("Saved \(path)\n".utf8))
  } catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    throw ExitCode.failure
  }
}

FashionMNIST.main()
