import Awesomegrad
import Foundation

/// Two interleaving half circles, as scikit-learn's `make_moons(n_samples: n, noise: noise)` makes them.
///
/// The outer moon is `(cos t, sin t)` and the inner one `(1 − cos t, 1 − sin t − 0.5)` for `t` evenly
/// spaced over `[0, π]` (`n/2` points outer, the rest inner). The points are shuffled, then Gaussian
/// noise with standard deviation `noise` is added to both coordinates. Labels are −1 for the outer
/// moon and +1 for the inner one (scikit-learn's 0/1 mapped to ±1, as in micrograd's demo).
///
/// - Returns: `X` as `n` rows of 2 coordinates and `y` with `n` labels.
func makeMoons(
  n: Int = 100, noise: Double = 0.1, using generator: inout some RandomNumberGenerator
) -> (X: [[Double]], y: [Double]) {
  let outerCount = n / 2
  let innerCount = n - outerCount
  func linspace(_ count: Int) -> [Double] {
    (0..<count).map { count == 1 ? 0 : Double.pi * Double($0) / Double(count - 1) }
  }
  var points: [(x: [Double], y: Double)] = []
  for t in linspace(outerCount) { points.append(([cos(t), sin(t)], -1)) }
  for t in linspace(innerCount) { points.append(([1 - cos(t), 1 - sin(t) - 0.5], 1)) }
  points.shuffle(using: &generator)
  let noiseValues = Tensor<Double>.randomNormal([n, 2], standardDeviation: noise, using: &generator).scalars
  let X = points.enumerated().map { i, p in [p.x[0] + noiseValues[2 * i], p.x[1] + noiseValues[2 * i + 1]] }
  return (X, points.map(\.y))
}
