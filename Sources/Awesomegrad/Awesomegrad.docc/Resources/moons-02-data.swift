import Awesomegrad
import AwesomegradDatasets

// 1. Data: 100 points on two interleaving half circles, labels 0 and 1.
var rng = SeededGenerator(seed: 1)
let (x, labels) = moons(n: 100, noise: 0.1, as: Double.self, using: &rng)
// The hinge loss wants labels −1 and +1, one per row: [100, 1].
let y = Tensor<Double>(labels.map { $0 == 1 ? 1 : -1 }, shape: [100, 1])
print(x.shape, y.shape)
