import Foundation
import Testing

@testable import Awesomegrad

/// The torch.optim fixture (see Fixtures/make_torch_optim_fixture.py).
private struct OptimFixture: Decodable {
  struct Initial: Decodable {
    let shape: [Int]
    let values: [Double]
  }
  struct Coefficients: Decodable {
    let c: [Double]
    let d: [Double]
  }
  struct Case: Decodable {
    let name: String
    let optimizer: String
    let lr, momentum, dampening, weight_decay, eps: Double
    let nesterov: Bool
    let betas: [Double]
    let steps: [[String: [Double]]]
  }
  struct Clipping: Decodable {
    let max_norm, total_norm: Double
    let grads: [String: [Double]]
  }
  let initial: [String: Initial]
  let coefficients: [String: Coefficients]
  let cases: [Case]
  let clipping: [Clipping]

  static func load() throws -> OptimFixture {
    let url = try #require(
      Bundle.module.url(forResource: "torch_optim", withExtension: "json", subdirectory: "Fixtures"))
    return try JSONDecoder().decode(OptimFixture.self, from: Data(contentsOf: url))
  }

  static let names = ["p0", "p1"]

  func makeParameters() -> [Tensor<Double>] {
    Self.names.map { Tensor(initial[$0]!.values, shape: initial[$0]!.shape, requiresGrad: true) }
  }

  /// loss = Σ c⊙p⊙p + Σ d⊙p over both parameters, so ∂loss/∂p = 2c⊙p + d.
  func loss(_ parameters: [Tensor<Double>]) -> Tensor<Double> {
    var total = Tensor<Double>(scalar: 0)
    for (name, p) in zip(Self.names, parameters) {
      let c = Tensor(coefficients[name]!.c, shape: p.shape), d = Tensor(coefficients[name]!.d, shape: p.shape)
      total = total + (c * p * p).sum() + (d * p).sum()
    }
    return total
  }
}

/// max |aᵢ − bᵢ|; ∞ when the counts differ or a difference is NaN, so that `< tolerance` fails.
private func maxDifference(_ a: [Double], _ b: [Double]) -> Double {
  guard a.count == b.count else { return .infinity }
  return zip(a, b).map { abs($0 - $1) }.reduce(0) { $1.isNaN ? .infinity : max($0, $1) }
}

@Suite struct OptimizerTests {
  /// Five steps of each optimizer on the fixture's quadratic match torch.optim (float64) to 1e-12.
  @Test(arguments: [
    "sgd", "sgd_momentum_nesterov_weight_decay", "sgd_momentum_dampening", "adam", "adam_weight_decay",
    "adamw",
  ])
  func matchesTorch(caseName: String) throws {
    let fixture = try OptimFixture.load()
    let c = try #require(fixture.cases.first { $0.name == caseName })
    let parameters = fixture.makeParameters()
    let optimizer: any Optimizer<Double> =
      switch c.optimizer {
      case "sgd":
        SGD(
          parameters, learningRate: c.lr, momentum: c.momentum, dampening: c.dampening, nesterov: c.nesterov,
          weightDecay: c.weight_decay)
      case "adam":
        Adam(
          parameters, learningRate: c.lr, betas: (c.betas[0], c.betas[1]), eps: c.eps,
          weightDecay: c.weight_decay)
      default:
        AdamW(
          parameters, learningRate: c.lr, betas: (c.betas[0], c.betas[1]), eps: c.eps,
          weightDecay: c.weight_decay)
      }
    #expect(c.steps.count == 5)
    for (stepIndex, expected) in c.steps.enumerated() {
      optimizer.zeroGrad()
      fixture.loss(parameters).backward()
      optimizer.step()
      for (name, p) in zip(OptimFixture.names, parameters) {
        let difference = maxDifference(p.scalars, expected[name]!)
        #expect(difference < 1e-12, "\(caseName) step \(stepIndex + 1) \(name): max difference \(difference)")
      }
    }
  }

  /// clip_grad_norm_ with max norm 0.5 scales the gradients down; with 100 it leaves them alone.
  /// Both return the norm before clipping, as torch does.
  @Test func clipGradientNormMatchesTorch() throws {
    let fixture = try OptimFixture.load()
    for clipping in fixture.clipping {
      let parameters = fixture.makeParameters()
      fixture.loss(parameters).backward()
      let norm = clipGradientNorm(parameters, maxNorm: clipping.max_norm)
      #expect(abs(norm - clipping.total_norm) < 1e-12)
      for (name, p) in zip(OptimFixture.names, parameters) {
        #expect(maxDifference(p.grad!.scalars, clipping.grads[name]!) < 1e-12)
      }
    }
  }

  /// a + b hands one gradient buffer to both leaves; clipping must scale each leaf's gradient once.
  /// g = [3, 4] for each of a, b: ‖g‖ = √50; scaled by 1/√50 each becomes [0.6, 0.8]/√2.
  @Test func clippingSharedGradientScalesOnce() {
    let a = Tensor<Double>([1, 2], requiresGrad: true), b = Tensor<Double>([5, 6], requiresGrad: true)
    (a + b).backward(gradient: Tensor([3, 4]))
    let norm = clipGradientNorm([a, b], maxNorm: 1)
    #expect(abs(norm - 50.0.squareRoot()) < 1e-15)
    let scale = 1 / (50.0.squareRoot() + 1e-6)
    for p in [a, b] {
      #expect(maxDifference(p.grad!.scalars, [3 * scale, 4 * scale]) < 1e-15)
    }
  }

  /// SGD: p ← p − lr·g, and a parameter without a gradient is left alone.
  /// p = [1, 2], g = [0.5, −1], lr = 0.1 ⇒ p = [0.95, 2.1].
  @Test func sgdSkipsParametersWithoutGradient() {
    let p = Tensor<Float>([1, 2], requiresGrad: true)
    let untouched = Tensor<Float>([7], requiresGrad: true)
    let optimizer = SGD([p, untouched], learningRate: 0.1)
    (p * Tensor([0.5, -1])).sum().backward()
    optimizer.step()
    #expect(p.scalars == [1 - Float(0.1) * 0.5, 2 + Float(0.1)])
    #expect(untouched.scalars == [7])
    optimizer.zeroGrad()
    #expect(p.grad == nil)
  }

  /// Adam's first step moves every coordinate by ≈ lr in the direction of −sign(g), whatever |g| is:
  /// m̂ = g, v̂ = g², so Δp = −lr·g/(|g| + ε).
  @Test func adamFirstStepIsSignTimesLearningRate() {
    let p = Tensor<Float>([0, 0, 0], requiresGrad: true)
    let optimizer = Adam([p], learningRate: 0.01)
    (p * Tensor([1000, -0.001, 3])).sum().backward()
    optimizer.step()
    let expected: [Float] = [-0.01, 0.01, -0.01]
    #expect(p.scalars.count == expected.count)  // zip below would silently check fewer
    for (x, e) in zip(p.scalars, expected) { #expect(abs(x - e) < 1e-5) }
  }
}
