import Awesomegrad
import AwesomegradDatasets

/// The data of micrograd's moons demo: 100 points of `moons(n:noise:)` with noise 0.1, labels mapped
/// to ±1 as the demo's hinge loss wants them (`y = 2·label − 1`).
struct MoonsProblem {
  /// `[100, 2]`.
  let features: Tensor<Double>
  /// −1 or +1 per point.
  let signs: [Double]

  init(seed: UInt64 = 0) {
    var generator = SeededGenerator(seed: seed)
    let (features, labels) = moons(n: 100, noise: 0.1, as: Double.self, using: &generator)
    self.features = features
    signs = labels.map { Double(2 * $0 - 1) }
  }

  /// The points as rows of (x₀, x₁), for the scalar engine.
  var rows: [[Double]] {
    let values = features.scalars
    return (0..<features.shape[0]).map { [values[2 * $0], values[2 * $0 + 1]] }
  }
}
