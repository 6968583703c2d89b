import Awesomegrad
import Foundation

/// Two interleaving half circles with Gaussian noise, as scikit-learn's `make_moons`: the first half
/// of the points on the upper moon with label −1, the second half on the lower moon with label +1.
/// The benchmark only needs the data's shape, but real points keep the hinge loss honest.
struct MoonsData {
  /// `count` rows of (x₀, x₁).
  var points: [[Double]] = []
  /// ±1 per point, as micrograd's demo uses.
  var labels: [Double] = []

  init(count: Int = 100, noise: Double = 0.1, using rng: inout SeededGenerator) {
    let outer = count / 2, inner = count - outer
    func gaussian() -> Double {
      let u1 = 1 - Double.random(in: 0..<1, using: &rng), u2 = Double.random(in: 0..<1, using: &rng)
      return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
    for i in 0..<outer {
      let t = Double.pi * Double(i) / Double(max(outer - 1, 1))
      points.append([cos(t) + noise * gaussian(), sin(t) + noise * gaussian()])
      labels.append(-1)
    }
    for i in 0..<inner {
      let t = Double.pi * Double(i) / Double(max(inner - 1, 1))
      points.append([1 - cos(t) + noise * gaussian(), 0.5 - sin(t) + noise * gaussian()])
      labels.append(1)
    }
  }
}
