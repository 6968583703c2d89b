import Testing

@testable import Awesomegrad

/// batchNorm (training and evaluation) and flattened: hand-computed values and gradient checks.
@Suite struct BatchNormTests {
  /// One channel, x = 1, 2, 3, 4 (shape [4, 1]), ε = 0, γ = 2, β = 1:
  /// μ = 2.5, biased σ² = (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25, unbiased 5/3,
  /// y = 2·(x − 2.5)/√1.25 + 1.
  @Test func trainingHandComputed() {
    let x = Tensor<Double>([1, 2, 3, 4], shape: [4, 1])
    let result = batchNorm(x, weight: Tensor([2]), bias: Tensor([1]), eps: 0)
    #expect(result.mean.scalars == [2.5])
    #expect(abs(result.unbiasedVariance.scalars[0] - 5.0 / 3) <= 1e-15)
    let expected = [1.0, 2, 3, 4].map { 2 * ($0 - 2.5) / 1.25.squareRoot() + 1 }
    for (a, e) in zip(result.output.scalars, expected) { #expect(abs(a - e) <= 1e-15) }
  }

  /// Two channels of [2, 2, 1, 2] (ε = 1e-5): channel 0 holds 1, 3, 5, 7 (μ = 4, σ² = 5, unbiased
  /// 20/3), channel 1 holds 2, 2, 2, 2 (σ² = 0, so x̂ = 0 and y = β). With upstream 1 and γ = 1,
  /// ∂x = 0 (the sum over a channel of a normalised value is constant), ∂β = 4 per channel and
  /// ∂γ = Σx̂ = 0.
  @Test func trainingPerChannel() {
    let x = Tensor<Double>([1, 3, 2, 2, 5, 7, 2, 2], shape: [2, 2, 1, 2], requiresGrad: true)
    let gamma = Tensor<Double>([1, 1], requiresGrad: true),
      beta = Tensor<Double>([0, 0.5], requiresGrad: true)
    let result = batchNorm(x, weight: gamma, bias: beta)
    #expect(result.mean.scalars == [4, 2])
    #expect(result.unbiasedVariance.scalars == [20.0 / 3, 0])
    let y = result.output.scalars
    #expect(abs(y[0] + 3 / (5 + 1e-5).squareRoot()) <= 1e-15)
    #expect(y[2] == 0.5 && y[3] == 0.5)
    result.output.sum().backward()
    #expect(beta.grad!.scalars == [4, 4])
    #expect(abs(gamma.grad!.scalars[0]) <= 1e-15)
    #expect(x.grad!.scalars.allSatisfy { abs($0) <= 1e-14 })
  }

  /// Evaluation: y = γ·(x − m)/√(v + ε) + β with the given statistics; x = 3, m = 1, v = 4 − ε,
  /// γ = 3, β = −1 → y = 3·2/2 − 1 = 2; ∂x = γ/2 = 1.5.
  @Test func evaluationHandComputed() {
    let eps = 1e-5
    let x = Tensor<Double>([3], shape: [1, 1], requiresGrad: true)
    let y = batchNorm(
      x, runningMean: Tensor([1]), runningVariance: Tensor([4 - eps]), weight: Tensor([3]),
      bias: Tensor([-1]),
      eps: eps)
    #expect(abs(y.item() - 2) <= 1e-12)
    y.backward()
    #expect(abs(x.grad!.item() - 1.5) <= 1e-12)
  }

  struct Case: CustomTestStringConvertible, Sendable {
    let name: String
    let shape: [Int]
    var affine = true
    var training = true
    var testDescription: String { name }
  }

  static let cases: [Case] = [
    Case(name: "2-D", shape: [5, 3]),
    Case(name: "3-D", shape: [3, 2, 4]),
    Case(name: "4-D", shape: [2, 3, 3, 2]),
    Case(name: "4-D no affine", shape: [2, 3, 2, 2], affine: false),
    Case(name: "eval 4-D", shape: [2, 3, 2, 2], training: false),
    Case(name: "eval no affine", shape: [4, 2], affine: false, training: false),
  ]

  @Test(arguments: cases)
  func gradientsMatchFiniteDifferences(_ c: Case) {
    var rng = SeededGenerator(seed: 9)
    let channels = c.shape[1]
    var inputs = [Tensor<Double>.randomNormal(c.shape, using: &rng)]
    if c.affine {
      inputs += [
        .randomUniform([channels], low: 0.5, high: 2, using: &rng), .randomNormal([channels], using: &rng),
      ]
    }
    let mean = Tensor<Double>.randomNormal([channels], using: &rng)
    let variance = Tensor<Double>.randomUniform([channels], low: 0.5, high: 2, using: &rng)
    let result = checkGradients(
      of: { t in
        let (w, b) = c.affine ? (t[1], t[2]) : (nil, nil)
        return c.training
          ? batchNorm(t[0], weight: w, bias: b).output
          : batchNorm(t[0], runningMean: mean, runningVariance: variance, weight: w, bias: b)
      }, at: inputs)
    #expect(result.passed, "\(c.name): \(result)")
  }

  @Test func floatMatchesDouble() {
    var rng = SeededGenerator(seed: 4)
    let x = Tensor<Double>.randomNormal([8, 3, 5, 5], using: &rng) * 3 + 2
    let w = Tensor<Double>.randomNormal([3], using: &rng), b = Tensor<Double>.randomNormal([3], using: &rng)
    let d = batchNorm(x, weight: w, bias: b)
    let f = batchNorm(Tensor<Float>(x), weight: Tensor<Float>(w), bias: Tensor<Float>(b))
    for (a, e) in zip(f.output.scalars, d.output.scalars) {
      #expect(abs(Double(a) - e) <= 1e-5 * (1 + abs(e)))
    }
    for (a, e) in zip(f.unbiasedVariance.scalars, d.unbiasedVariance.scalars) {
      #expect(abs(Double(a) - e) <= 1e-5 * e)
    }
  }

  @Test func oneValuePerChannelIsAnErrorInTraining() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = batchNorm(Tensor<Float>.zeros([1, 3]), weight: nil, bias: nil)
    }
    let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    #expect(
      message.contains("batchNorm: training needs more than one value per channel (got 1)"), "\(message)")
  }

  /// torch.flatten's shapes: [2, 3, 4, 5] with (1, −1) → [2, 60]; (1, 2) → [2, 12, 5]; default → [120];
  /// a scalar → [1]. The gradient is reshaped back.
  @Test func flattenShapes() {
    let x = Tensor<Double>.zeros([2, 3, 4, 5], requiresGrad: true)
    #expect(x.flattened(startAxis: 1).shape == [2, 60])
    #expect(x.flattened(startAxis: 1, endAxis: 2).shape == [2, 12, 5])
    #expect(x.flattened().shape == [120])
    #expect(x.flattened(startAxis: -2, endAxis: -2).shape == [2, 3, 4, 5])
    #expect(Tensor<Double>(scalar: 3).flattened().shape == [1])
    x.flattened(startAxis: 1).sum().backward()
    #expect(x.grad!.shape == [2, 3, 4, 5])
  }

  @Test func flattenStartAfterEndIsAnError() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Tensor<Float>.zeros([2, 3, 4]).flattened(startAxis: 2, endAxis: 1)
    }
    let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    #expect(
      message.contains("flattened: startAxis (2) comes after endAxis (1); shape [2, 3, 4]"), "\(message)")
  }
}
