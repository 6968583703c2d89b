import Foundation
import Testing

@testable import Awesomegrad

/// The layers of convolutional networks: PyTorch's state-dict names, initialisation bounds, and
/// BatchNorm's running statistics replayed against PyTorch's (batchnorm_running_stats.json).
@Suite struct ConvolutionLayerTests {
  /// Conv2d(3 → 8, 3×3) has weight [8, 3, 3, 3] and bias [8], both in U(±1/√27) (fan_in = 3·3·3).
  @Test func conv2dNamesShapesAndInitialisation() {
    var rng = SeededGenerator(seed: 0)
    let layer = Conv2d<Float>(inputChannels: 3, outputChannels: 8, kernelSize: 3, padding: 1, using: &rng)
    #expect(layer.namedParameters.map(\.name) == ["weight", "bias"])
    #expect(layer.weight.shape == [8, 3, 3, 3] && layer.bias!.shape == [8])
    let bound = 1 / Float(27).squareRoot()
    #expect((layer.weight.scalars + layer.bias!.scalars).allSatisfy { abs($0) <= bound })
    #expect(layer.weight.scalars.contains { abs($0) > bound / 2 })
    #expect(layer(Tensor<Float>.zeros([2, 3, 5, 5])).shape == [2, 8, 5, 5])
    #expect(layer.workspaceCount(inputShape: [2, 3, 5, 5]) == 27 * 25)
    // Grouped: fan_in = (4 / 2)·1·3 = 6.
    let grouped = Conv1d<Double>(
      inputChannels: 4, outputChannels: 6, kernelSize: 3, groups: 2, bias: false, using: &rng)
    #expect(grouped.namedParameters.map(\.name) == ["weight"])
    #expect(grouped.weight.shape == [6, 2, 3])
    #expect(grouped.weight.scalars.allSatisfy { abs($0) <= 1 / 6.0.squareRoot() })
    #expect(grouped(Tensor<Double>.zeros([1, 4, 10])).shape == [1, 6, 8])
  }

  /// The CNN of the Fashion-MNIST example in a Sequential, with PyTorch's names (indices of
  /// nn.Sequential) and shapes: 28×28 → 14×14 → 7×7 → 3136 features.
  @Test func smallCNNHasPyTorchNames() {
    var rng = SeededGenerator(seed: 0)
    let model = Sequential<Float>(
      Conv2d(inputChannels: 1, outputChannels: 32, kernelSize: 3, padding: 1, using: &rng), ReLU(),
      MaxPool2d(kernelSize: 2),
      Conv2d(inputChannels: 32, outputChannels: 64, kernelSize: 3, padding: 1, using: &rng), ReLU(),
      MaxPool2d(kernelSize: 2), Flatten(), Linear(inputs: 3136, outputs: 128, using: &rng), ReLU(),
      Linear(inputs: 128, outputs: 10, using: &rng))
    #expect(
      model.namedParameters.map(\.name) == [
        "0.weight", "0.bias", "3.weight", "3.bias", "7.weight", "7.bias", "9.weight", "9.bias",
      ])
    #expect(model(Tensor<Float>.zeros([2, 1, 28, 28])).shape == [2, 10])
  }

  @Test func poolingAndFlattenLayers() {
    let x = Tensor<Double>((0..<32).map(Double.init), shape: [1, 2, 4, 4])
    #expect(MaxPool2d<Double>(kernelSize: 2)(x).scalars == [5, 7, 13, 15, 21, 23, 29, 31])
    #expect(
      AvgPool2d<Double>(kernelSize: 2, stride: 2)(x).scalars == [
        2.5, 4.5, 10.5, 12.5, 18.5, 20.5, 26.5, 28.5,
      ])
    #expect(AdaptiveAvgPool2d<Double>(outputSize: 1)(x).scalars == [7.5, 23.5])
    #expect(Flatten<Double>()(x).shape == [1, 32])
    #expect(MaxPool2d<Double>(kernelSize: 2).namedParameters.isEmpty)
  }

  /// BatchNorm2d has PyTorch's state: weight, bias; running_mean, running_var, num_batches_tracked
  /// (an IntegerBuffer), in PyTorch's state-dict order. Optimizers see only the parameters.
  @Test func batchNormState() {
    let layer = BatchNorm2d<Float>(features: 3)
    #expect(layer.namedParameters.map(\.name) == ["weight", "bias"])
    #expect(layer.namedBuffers.map(\.name) == ["running_mean", "running_var"])
    #expect(layer.namedIntegerBuffers.map(\.name) == ["num_batches_tracked"])
    #expect(
      layer.stateDict().map(\.name) == [
        "weight", "bias", "running_mean", "running_var", "num_batches_tracked",
      ])
    #expect(layer.stateDict().map(\.role) == [.parameter, .parameter, .buffer, .buffer, .integerBuffer])
    #expect(layer.parameters.count == 2)
    #expect(layer.weight!.scalars == [1, 1, 1] && layer.bias!.scalars == [0, 0, 0])
    #expect(layer.runningMean.scalars == [0, 0, 0] && layer.runningVariance.scalars == [1, 1, 1])
    let plain = BatchNorm1d<Double>(features: 2, affine: false)
    #expect(plain.namedParameters.isEmpty)
    #expect(plain.namedBuffers.count == 2 && plain.namedIntegerBuffers.count == 1)
  }

  /// Evaluation mode neither uses nor changes the batch statistics.
  @Test func evalModeUsesRunningStatistics() {
    let layer = BatchNorm1d<Double>(features: 1)
    layer.eval()
    let y = layer(Tensor([2, 4], shape: [2, 1]))
    // (x − 0)/√(1 + 1e-5)
    #expect(abs(y.scalars[1] - 4 / (1 + 1e-5).squareRoot()) <= 1e-15)
    #expect(layer.runningMean.scalars == [0])
    #expect(layer.batchesTracked.item() == 0)
    layer.train()
    _ = layer(Tensor([2, 4], shape: [2, 1]))
    // mean 3 → running 0.9·0 + 0.1·3; unbiased variance 2 → 0.9·1 + 0.1·2
    #expect(abs(layer.runningMean.item() - 0.3) <= 1e-15)
    #expect(abs(layer.runningVariance.item() - 1.1) <= 1e-15)
    #expect(layer.batchesTracked.item() == 1)
  }

  struct Reference: Decodable {
    struct Step: Decodable {
      let input: [Double], output: [Double]
      let running_mean: [Double], running_var: [Double]
      let num_batches_tracked: Int
    }
    struct Evaluation: Decodable { let input: [Double], output: [Double] }
    struct Case: Decodable {
      let name: String, layer: String, features: Int, shape: [Int]
      let momentum: Double?, affine: Bool, eps: Double
      let weight: [Double]?, bias: [Double]?
      let steps: [Step]
      let eval: Evaluation
    }
    let cases: [Case]
  }

  /// PyTorch's BatchNorm1d/2d in float64 (make_batchnorm_fixture.py): after every training batch the
  /// running mean and variance agree to 1e-12 and the counter exactly; outputs to 1e-12; and the
  /// eval-mode output uses the final running statistics.
  @Test func runningStatisticsMatchPyTorch() throws {
    let url = try #require(
      Bundle.module.url(
        forResource: "batchnorm_running_stats", withExtension: "json", subdirectory: "Fixtures"))
    let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    #expect(reference.cases.count == 3)
    func close(_ a: [Double], _ b: [Double], _ what: String) {
      #expect(a.count == b.count, "\(what)")
      let worst = zip(a, b).map { abs($0 - $1) / (1 + abs($1)) }.max() ?? 0
      #expect(worst <= 1e-12, "\(what): worst deviation \(worst)")
    }
    for c in reference.cases {
      let layer: BatchNorm<Double> =
        c.layer == "BatchNorm2d"
        ? BatchNorm2d(features: c.features, eps: c.eps, momentum: c.momentum, affine: c.affine)
        : BatchNorm1d(features: c.features, eps: c.eps, momentum: c.momentum, affine: c.affine)
      if let w = c.weight, let b = c.bias {
        layer.weight!.updateValues { for i in 0..<w.count { $0[i] = w[i] } }
        layer.bias!.updateValues { for i in 0..<b.count { $0[i] = b[i] } }
      }
      for (i, step) in c.steps.enumerated() {
        let y = layer(Tensor(step.input, shape: c.shape))
        close(y.scalars, step.output, "\(c.name) step \(i) output")
        close(layer.runningMean.scalars, step.running_mean, "\(c.name) step \(i) running_mean")
        close(layer.runningVariance.scalars, step.running_var, "\(c.name) step \(i) running_var")
        #expect(Int(layer.batchesTracked.item()) == step.num_batches_tracked, "\(c.name) step \(i)")
      }
      layer.eval()
      close(layer(Tensor(c.eval.input, shape: c.shape)).scalars, c.eval.output, "\(c.name) eval output")
    }
  }
}
