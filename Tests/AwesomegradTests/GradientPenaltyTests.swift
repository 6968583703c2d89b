import Foundation
import Testing

@testable import Awesomegrad

/// A WGAN-GP critic trained with a gradient penalty matches its PyTorch twin
/// (`Benchmarks/reference/wgan_gp_twin.py`, fixture `wgan_gp_seed0.json`) to 1e-9 in Double.
///
///     D(x) = tanh(x·W1ᵀ + b1)·W2ᵀ + b2,  x̂ = ε·real + (1 − ε)·fake
///     loss = mean D(fake) − mean D(real) + λ·mean((‖∇ₓD(x̂)‖₂ − 1)²)
///
/// ∇ₓD(x̂) is taken with `createGraph`, so the parameters' gradients go through it.
@Suite struct GradientPenaltyTests {
  struct Array: Decodable {
    let shape: [Int]
    let data: [Double]
    var tensor: Tensor<Double> { Tensor(data, shape: shape) }
  }

  struct Twin: Decodable {
    let steps: Int
    let learning_rate: Double
    let lambda: Double
    let initial: [String: Array]
    let real: Array, fake: Array, eps: Array
    let losses: [Double], penalties: [Double]
    let final: [String: Array]
  }

  @Test func criticMatchesThePyTorchTwin() throws {
    let url = try #require(
      Bundle.module.url(forResource: "wgan_gp_seed0", withExtension: "json", subdirectory: "Fixtures"))
    let twin = try JSONDecoder().decode(Twin.self, from: Data(contentsOf: url))
    let names = ["w1", "b1", "w2", "b2"]
    let parameters = try names.map { try #require(twin.initial[$0]).tensor.requireGrad() }
    let (w1, b1, w2, b2) = (parameters[0], parameters[1], parameters[2], parameters[3])
    func critic(_ x: Tensor<Double>) -> Tensor<Double> {
      x.linear(weight: w1, bias: b1).tanh().linear(weight: w2, bias: b2)
    }
    let (real, fake, eps) = (twin.real.tensor, twin.fake.tensor, twin.eps.tensor)
    for step in 0..<twin.steps {
      let interpolated = (eps * real + (1 - eps) * fake).requireGrad()
      let slope = gradients(of: critic(interpolated).sum(), at: [interpolated], createGraph: true)[0]
      let norms = (slope * slope).sum(axes: [1]).sqrt()
      let penalty = ((norms - 1) * (norms - 1)).mean()
      let loss = critic(fake).mean() - critic(real).mean() + twin.lambda * penalty
      #expect(Swift.abs(loss.item() - twin.losses[step]) <= 1e-9 * (1 + Swift.abs(twin.losses[step])))
      #expect(
        Swift.abs(penalty.item() - twin.penalties[step]) <= 1e-9 * (1 + Swift.abs(twin.penalties[step])))
      for p in parameters { p.zeroGrad() }
      loss.backward()
      for p in parameters {
        let g = p.grad!.scalars
        p.updateValues { values in
          for i in values.indices { values[i] -= twin.learning_rate * g[i] }
        }
      }
    }
    for (name, p) in zip(names, parameters) {
      let expected = try #require(twin.final[name])
      #expect(p.shape == expected.shape)
      let worst = zip(p.scalars, expected.data).map { Swift.abs($0 - $1) / (1 + Swift.abs($1)) }.max() ?? 0
      #expect(worst <= 1e-9, "\(name): worst relative deviation \(worst)")
    }
  }
}
