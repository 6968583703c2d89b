import Foundation
import Testing

@testable import Awesomegrad

/// Batch norm's `num_batches_tracked` is an integer, as in PyTorch (int64), whatever the layer's
/// scalar type. Kept as a `Float`, it stopped counting at 2²⁴ (16 777 216 + 1 rounds back to
/// 16 777 216), and `momentum: nil` (a cumulative average, factor 1/n) kept weighing every later
/// batch by 1/2²⁴.
@Suite struct BatchNormCounterTests {
  static func temporaryPath(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent(
      "awesomegrad-\(UInt64.random(in: 0...UInt64.max))-\(name)"
    ).path
  }

  /// A BatchNorm1d(1) state with `count` batches seen, running mean 0 and variance 1.
  static func writeState(count: Int64, to path: String) throws {
    try writeSafeTensors(
      [
        "weight": SafeTensorsWritable(Tensor<Float>([1])), "bias": SafeTensorsWritable(Tensor<Float>([0])),
        "running_mean": SafeTensorsWritable(Tensor<Float>([0])),
        "running_var": SafeTensorsWritable(Tensor<Float>([1])),
        "num_batches_tracked": SafeTensorsWritable(int64: [count], shape: []),
      ], to: path)
  }

  /// From n = 2²⁴ batches, one more batch whose mean is 2²⁴ (two equal samples, variance 0):
  ///
  ///     n = 2²⁴ + 1,  factor f = Float(1/n) = 2⁻²⁴ − 2⁻⁴⁸  (the nearest Float below 2⁻²⁴)
  ///     running_mean = (1 − f)·0 + f·2²⁴ = 1 − 2⁻²⁴ = 0.99999994
  ///
  /// and the saved count is 16 777 217. With the count in Float, n stayed 2²⁴, f = 2⁻²⁴ and the
  /// running mean became exactly 1.
  @Test func theCountGoesPast2To24InFloat() throws {
    let (input, output) = (Self.temporaryPath("in.safetensors"), Self.temporaryPath("out.safetensors"))
    defer { for path in [input, output] { try? FileManager.default.removeItem(atPath: path) } }
    try Self.writeState(count: 1 << 24, to: input)
    let layer = BatchNorm1d<Float>(features: 1, momentum: nil)
    try layer.load(from: input)
    _ = layer(Tensor<Float>([16_777_216, 16_777_216], shape: [2, 1]))
    #expect(layer.runningMean.scalars == [1 - 0x1p-24])
    try layer.save(to: output)
    #expect(try SafeTensorsFile(contentsOf: output).integers("num_batches_tracked").values == [16_777_217])
  }

  /// A count no Float holds (2²⁴ + 1) loads and saves back exactly, as int64.
  @Test func aCountAboveFloatsIntegersRoundTrips() throws {
    let (input, output) = (Self.temporaryPath("in.safetensors"), Self.temporaryPath("out.safetensors"))
    defer { for path in [input, output] { try? FileManager.default.removeItem(atPath: path) } }
    try Self.writeState(count: (1 << 24) + 1, to: input)
    let layer = BatchNorm1d<Float>(features: 1)
    try layer.load(from: input)
    try layer.save(to: output)
    let file = try SafeTensorsFile(contentsOf: output)
    #expect(file.entries["num_batches_tracked"]?.dtype == .I64)
    #expect(try file.integers("num_batches_tracked").values == [16_777_217])
  }
}

/// The training checkpoint keeps the counter exactly too.
@Suite struct BatchNormCounterCheckpointTests {
  /// A Float BatchNorm1d that has seen 2²⁴ + 1 batches (a count no Float holds) is written to a
  /// training checkpoint and read into a fresh layer: the count comes back 16 777 217, and the file
  /// holds it as I64.
  @Test func aTrainingCheckpointKeepsACountAbove2To24() throws {
    let layer = BatchNorm1d<Float>(features: 2)
    layer.batchesTracked.values = [(1 << 24) + 1]
    let checkpoint = TrainingCheckpoint(model: layer, optimizers: [SGD(layer.parameters, learningRate: 0.1)])
    let bytes = try checkpoint.bytes(TrainingState(generator: SeededGenerator(seed: 1)))
    let file = try SafeTensorsFile(bytes: bytes)
    #expect(try file.integers("model.num_batches_tracked").values == [16_777_217])
    let fresh = BatchNorm1d<Float>(features: 2)
    let restored = TrainingCheckpoint(model: fresh, optimizers: [SGD(fresh.parameters, learningRate: 0.1)])
    _ = try restored.load(bytes: bytes, path: "<memory>")
    #expect(fresh.batchesTracked.values == [16_777_217])
  }
}
