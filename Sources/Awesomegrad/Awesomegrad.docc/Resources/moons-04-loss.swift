import Awesomegrad
import AwesomegradDatasets

// 1. Data: 100 points on two interleaving half circles, labels 0 and 1.
var rng = SeededGenerator(seed: 1)
let (x, labels) = moons(n: 100, noise: 0.1, as: Double.self, using: &rng)
// The hinge loss wants labels −1 and +1, one per row: [100, 1].
let y = Tensor<Double>(labels.map { $0 == 1 ? 1 : -1 }, shape: [100, 1])

// 2. Model: 2 inputs, two hidden layers of 16 ReLUs, one score.
let model = MLP<Double>(inputs: 2, hiddenSizes: [16, 16], outputs: 1, activation: .relu, using: &rng)
print(model)
print(model.summary(inputShape: [100, 2]))

// 3. Loss: the hinge loss plus a little L2 regularisation.
let computeLoss = { () -> (loss: Tensor<Double>, scores: Tensor<Double>) in
  let scores = model(x)
  var l2 = Tensor<Double>(scalar: 0)
  for p in model.parameters { l2 = l2 + (p * p).sum() }
  return (hingeLoss(scores, labels: y) + 1e-4 * l2, scores)
}
print(computeLoss().loss.item())
