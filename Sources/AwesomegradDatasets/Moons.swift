import Awesomegrad
import Foundation

/// Two interleaving half circles, as scikit-learn's `make_moons`: the classic two-class toy problem
/// of micrograd's demo.
///
/// With n_out = ⌊n/2⌋ and n_in = n − n_out points:
///
///     outer (label 0): (cos t, sin t),              t = linspace(0, π, n_out)
///     inner (label 1): (1 − cos t, 1 − sin t − ½),  t = linspace(0, π, n_in)
///
/// The points are shuffled and then each coordinate gets Gaussian noise N(0, noise²). The numbers
/// differ from scikit-learn's, which uses numpy's generator.
///
/// - Returns: `features` `[n, 2]` and `labels` (0 or 1) in the same order.
public func moons<Scalar: TensorScalar, G: RandomNumberGenerator>(
  n: Int, noise: Double = 0, as _: Scalar.Type = Scalar.self, using generator: inout G,
  file: StaticString = #fileID, line: UInt = #line
) -> (features: Tensor<Scalar>, labels: [Int]) {
  if n < 2 {
    datasetArgumentFailure("moons", "n must be at least 2 (one point per moon), got \(n)", file: file, line: line)
  }
  if !(noise >= 0) {
    datasetArgumentFailure(
      "moons", "noise is a standard deviation and must be ≥ 0, got \(noise)", file: file, line: line)
  }
  let outerCount = n / 2, innerCount = n - outerCount
  func linspace(_ count: Int) -> [Double] {
    count == 1 ? [0] : (0..<count).map { Double.pi * Double($0) / Double(count - 1) }
  }
  var points: [(x: Double, y: Double, label: Int)] = []
  for t in linspace(outerCount) { points.append((cos(t), sin(t), 0)) }
  for t in linspace(innerCount) { points.append((1 - cos(t), 1 - sin(t) - 0.5, 1)) }
  points.shuffle(using: &generator)
  let noiseValues = Tensor<Double>.randomNormal([n, 2], standardDeviation: noise, using: &generator).scalars
  var features: [Scalar] = []
  features.reserveCapacity(2 * n)
  for (i, point) in points.enumerated() {
    features.append(Scalar(point.x + noiseValues[2 * i]))
    features.append(Scalar(point.y + noiseValues[2 * i + 1]))
  }
  return (Tensor(features, shape: [n, 2]), points.map(\.label))
}
