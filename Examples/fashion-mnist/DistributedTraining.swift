// `--distributed`: the same training, data-parallel over the ranks of an MPI job.
//
//     make ddp                                            (2 ranks on this machine)
//     mpirun -np 2 .build/release/fashion-mnist --distributed
//
// Every rank builds the same model from --seed, rank 0's values are broadcast, and every rank draws the
// same shuffle; each global batch of ranks × --batch-size images is split into contiguous parts and
// each rank gathers only the rows of its part. After each backward pass the gradients are averaged
// over the ranks (one fused allreduce), so every rank takes the same Adam step as one process at the
// global batch. Rank 0 prints; the test set is evaluated in shards and the counts summed.
import ArgumentParser
import Awesomegrad
import AwesomegradDatasets
import AwesomegradDistributed
import Foundation

extension FashionMNIST {
  /// Starts MPI (or runs as one process without a launcher), trains, and ends the job on any error.
  func runDistributed(stop: StopSignal?) throws {
    setThreadCount(threads)
    keepFreedMemoryForReuse()
    let context: DistributedContext
    do {
      context = try Distributed.initialize()
    } catch {
      FileHandle.standardError.write(Data("error: \(error)\n".utf8))
      throw ExitCode.failure
    }
    if verbose && context.isRoot {
      print("BLAS: \(BLASBackend.current)\n      \(BLASBackend.current.config)\nMPI: \(context)")
    }
    do {
      try trainDistributed(context, stop: stop)
      try context.finalize()
    } catch {
      // A rank that stops alone would leave the others waiting: end the whole job with the message.
      FileHandle.standardError.write(Data("error: rank \(context.rank) of \(context.size): \(error)\n".utf8))
      context.abort(code: 1)
    }
  }

  private func trainDistributed(_ context: DistributedContext, stop: StopSignal?) throws {
    func log(_ line: String) { if context.isRoot { print(line) } }
    let start = Date()
    let dataset = try MNISTDataset(
      directory: data,
      hint: "Install Fashion-MNIST on every host with `sudo apt-get install dataset-fashion-mnist` "
        + "(or `make fashion`), or pass --data DIR with the four IDX files.")
    let (train, test) = (dataset.train, dataset.test)
    log(
      "Rank 0 of \(context.size) (\(context.localSize) on this host): loaded \(train.count) training and "
        + "\(test.count) test images in " + String(format: "%.2f s", Date().timeIntervalSince(start)))

    var mean: Float = 0, standardDeviation: Float = 1
    if normalize ?? (self.model == .cnn) {
      let pixels = train.pixels.map { Double($0) / 255 }
      let m = pixels.reduce(0, +) / Double(pixels.count)
      let variance = pixels.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(pixels.count)
      (mean, standardDeviation) = (Float(m), Float(variance.squareRoot()))
    }

    var rng = SeededGenerator(seed: seed)  // the same on every rank: same initial weights and shuffles
    let (model, description) = self.model.make(using: &rng)
    let optimizer = Adam(model.parameters, learningRate: lr)
    try context.broadcastParameters(of: model)
    log(
      "\(description); Adam lr \(lr), batch \(batchSize) per rank × "
        + "\(context.size) ranks = \(batchSize * context.size), seed \(seed)")

    // Every rank keeps the same state; rank 0 writes the checkpoints and reads the one to resume
    // from, and sends it to the others.
    var state = TrainingState(generator: rng)
    let checkpoint = TrainingCheckpoint(model: model, optimizers: [optimizer])
    let checkpoints = checkpointDir.map { CheckpointDirectory($0, keep: keepCheckpoints) }
    if let checkpoints {
      let warning: (String) -> Void = { message in if context.isRoot { self.note(message) } }
      if let resumed = try context.resume(checkpoint, from: checkpoints, warning: warning) {
        state = resumed.state
        if context.isRoot {
          note(
            "resumed from step \(state.step) (\(state.epoch) epochs and \(state.batchInEpoch) batches done) "
              + "(\(resumed.path))")
        }
      }
    }
    var savedStep: Int?
    /// Rank 0 writes the checkpoint of the last completed step; a write that fails is reported and
    /// training goes on, on every rank alike.
    func writeTrainingCheckpoint() throws -> Bool {
      guard let checkpoints, savedStep != state.step else { return true }
      do {
        try context.save(checkpoint, state, in: checkpoints)
        savedStep = state.step
        return true
      } catch let error as TrainingCheckpointError {
        if context.isRoot { note("warning: \(error)") }
        return false
      }
    }

    var trainingSeconds = state.values["training_seconds"] ?? 0, accuracy = 0.0
    var wholeEpochSeconds =
      state.values[RunTiming.wholeEpochSecondsKey] ?? (state.batchInEpoch == 0 ? trainingSeconds : nil)
    // Every rank counts the same global steps, so every rank stops at the same one.
    while state.epoch < epochs && !RunTiming.isDone(state.step, maxSteps: maxSteps) {
      let epoch = state.epoch + 1
      let epochStart = Date()
      let before = context.statistics
      model.train()
      let batches = state.epochBatches(count: train.count, batchSize: batchSize * context.size)
        .sharded(for: context)
      var lossSum = state.values["epoch_loss_sum"] ?? 0, seen = Int(state.values["epoch_seen"] ?? 0)
      let firstBatch = state.batchInEpoch
      for indices in batches.dropFirst(firstBatch) {
        if RunTiming.isDone(state.step, maxSteps: maxSteps) { break }
        let x = train.batch(indices, mean: mean, standardDeviation: standardDeviation, as: Float.self)
        let labels = indices.map { train.labels[$0] }
        optimizer.zeroGrad()
        let loss = crossEntropy(model(x), labels: labels)
        if overlap {
          try context.averageGradients(of: model.parameters) { ready in loss.backward(onLeafGradientReady: ready) }
        } else {
          loss.backward()
          try context.averageGradients(of: model.parameters)
        }
        optimizer.step()
        state.finishStep()
        lossSum += Double(loss.item()) * Double(indices.count)
        seen += indices.count
        guard checkpoints != nil else { continue }
        // One allreduce of one number a step, so that every rank stops at the same step.
        let stopping = try context.anyRank(stop?.isRequested ?? false)
        if state.step % checkpointEvery == 0 || stopping {
          (state.values["epoch_loss_sum"], state.values["epoch_seen"]) = (lossSum, Double(seen))
          state.values["training_seconds"] = trainingSeconds + Date().timeIntervalSince(epochStart)
          let saved = try writeTrainingCheckpoint()
          if stopping {
            try context.finalize()
            if context.isRoot {
              stopRun(at: state, saved: saved, in: checkpoints!)
            }
            Foundation.exit(saved ? 0 : 1)
          }
        }
      }
      let seconds = Date().timeIntervalSince(epochStart)
      trainingSeconds += seconds
      let totals = try context.allreduce([lossSum, Double(seen)], .sum)
      accuracy = try evaluateSharded(
        model, on: test, mean: mean, standardDeviation: standardDeviation, context)
      let steps = state.batchInEpoch - firstBatch
      let communication = context.statistics
      let averageMilliseconds =
        1000 * (communication.gradientAverageSeconds - before.gradientAverageSeconds) / Double(max(steps, 1))
      let bytesPerStep = (communication.allreduceBytes - before.allreduceBytes) / max(steps, 1)
      log(
        String(
          format: "epoch %d  train loss %.4f  test accuracy %.2f%%  %.2f s  (%d steps; allreduce %.3f ms and "
            + "%d bytes per step on rank 0)",
          epoch, totals[0] / totals[1], 100 * accuracy, seconds, steps, averageMilliseconds, bytesPerStep))
      if state.batchInEpoch < batches.batchCount {  // --max-steps ended the run inside this epoch
        (state.values["epoch_loss_sum"], state.values["epoch_seen"]) = (lossSum, Double(seen))
        state.values["training_seconds"] = trainingSeconds
        break
      }
      state.finishEpoch()
      wholeEpochSeconds = trainingSeconds
      state.values = ["training_seconds": trainingSeconds, RunTiming.wholeEpochSecondsKey: trainingSeconds]
    }
    if checkpoints != nil && epochs > 0 {
      savedStep = nil  // the end of the last epoch: written even when its last step's checkpoint was
      _ = try writeTrainingCheckpoint()
    }
    if let save {
      // Every rank holds the same model; rank 0 writes it.
      if context.isRoot { try saveCheckpoint(model, to: save) }
      try context.barrier()
    }
    if json {
      log(
        "{\"model\": \"\(self.model.rawValue)\", "
          + "\"epochs\": \(RunTiming.epochsBegun(epochs: state.epoch, batchInEpoch: state.batchInEpoch)), "
          + "\"test_accuracy\": \(String(format: "%.6g", accuracy)), "
          + RunTiming.jsonFields(
            steps: state.step, seconds: trainingSeconds, wholeEpochs: state.epoch,
            wholeEpochSeconds: wholeEpochSeconds) + ", \"ranks\": \(context.size)}")
    }
  }

  /// The fraction of `split` classified correctly, each rank evaluating every size-th image from its
  /// rank on and the counts summed over the ranks.
  private func evaluateSharded(
    _ model: Module<Float>, on split: MNISTSplit, mean: Float, standardDeviation: Float,
    _ context: DistributedContext
  ) throws -> Double {
    model.eval()
    defer { model.train() }
    let shard = Array(stride(from: context.rank, to: split.count, by: context.size))
    let correct = withoutGrad {
      var correct = 0
      for start in stride(from: 0, to: shard.count, by: 1000) {
        let indices = Array(shard[start..<min(start + 1000, shard.count)])
        correct += correctPredictions(
          model, split, indices, mean: mean, standardDeviation: standardDeviation)
      }
      return correct
    }
    let totals = try context.allreduce([Double(correct), Double(shard.count)], .sum)
    return totals[0] / totals[1]
  }
}
