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
import AwesomegradDistributed
import Foundation

extension FashionMNIST {
  /// Starts MPI (or runs as one process without a launcher), trains, and ends the job on any error.
  func runDistributed() throws {
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
      try trainDistributed(context)
      try context.finalize()
    } catch {
      // A rank that stops alone would leave the others waiting: end the whole job with the message.
      FileHandle.standardError.write(Data("error: rank \(context.rank) of \(context.size): \(error)\n".utf8))
      context.abort(code: 1)
    }
  }

  private func trainDistributed(_ context: DistributedContext) throws {
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

    var timing = RunTiming(), accuracy = 0.0
    for epoch in stride(from: 1, through: epochs, by: 1) {
      let epochStart = Date()
      let before = context.statistics
      model.train()
      let batches = MiniBatches(
        count: train.count, batchSize: batchSize * context.size, shuffle: true, using: &rng
      ).sharded(for: context)
      var lossSum = 0.0, seen = 0, steps = 0
      for indices in batches {
        if timing.isDone(maxSteps: maxSteps) { break }  // every rank stops at the same global batch
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
        lossSum += Double(loss.item()) * Double(indices.count)
        seen += indices.count
        steps += 1
        timing.steps += 1
      }
      let seconds = Date().timeIntervalSince(epochStart)
      timing.endEpoch(seconds: seconds, whole: steps == batches.batchCount)
      let totals = try context.allreduce([lossSum, Double(seen)], .sum)
      accuracy = try evaluateSharded(
        model, on: test, mean: mean, standardDeviation: standardDeviation, context)
      let communication = context.statistics
      let averageMilliseconds =
        1000 * (communication.gradientAverageSeconds - before.gradientAverageSeconds) / Double(max(steps, 1))
      let bytesPerStep = (communication.allreduceBytes - before.allreduceBytes) / max(steps, 1)
      log(
        String(
          format: "epoch %d  train loss %.4f  test accuracy %.2f%%  %.2f s  (%d steps; allreduce %.3f ms and "
            + "%d bytes per step on rank 0)",
          epoch, totals[0] / totals[1], 100 * accuracy, seconds, steps, averageMilliseconds, bytesPerStep))
      if timing.isDone(maxSteps: maxSteps) { break }
    }
    if json {
      log(
        "{\"model\": \"\(self.model.rawValue)\", \"epochs\": \(timing.epochs), "
          + "\"test_accuracy\": \(String(format: "%.6g", accuracy)), \(timing.jsonFields), \"ranks\": \(context.size)}")
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
