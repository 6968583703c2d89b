import Awesomegrad

/// micrograd's moons demo step on `Tensor<Double>`, the whole batch of 100 points at once, written
/// with the library's modules as a user would:
///
///     scores = MLP(2, [16, 16, 1]) with ReLU, micrograd's U(−1, 1) init   [100, 1]
///     loss   = mean(relu(1 − y ⊙ scores)) + 1e-4 · Σₚ Σ p²
///     zero_grad, backward, SGD step (lr 0.05)
final class MoonsTensor: Workload {
  static let name = "moons-tensor"
  static let engine = "awesomegrad"
  static let dtype = "float64"
  static let defaultSteps = 1000
  /// About 0.1 s. On the 2-core benchmark machine some processes (one in three to six) run every
  /// step at ~1.6× the usual time; the mode is decided per process (it never showed with ASLR off,
  /// `setarch -R`), so compare.sh's median over rounds is what absorbs it. The PyTorch reference
  /// warms up for as many steps.
  static let warmUpSteps = 2000

  let x: Tensor<Double>
  /// ±1, `[100, 1]`.
  let y: Tensor<Double>
  let model: MLP<Double>
  let optimizer: SGD<Double>
  let alpha = 1e-4

  init() {
    let problem = MoonsProblem()
    x = problem.features
    y = Tensor(problem.signs, shape: [100, 1])
    var generator = SeededGenerator(seed: 1)
    model = MLP(
      inputs: 2, hiddenSizes: [16, 16], outputs: 1, activation: .relu, initialization: .microgradUniform,
      using: &generator)
    optimizer = SGD(model.parameters, learningRate: 0.05)
  }

  func step() {
    optimizer.zeroGrad()
    let scores = model(x)
    let dataLoss = (1 - y * scores).relu().mean()
    let regLoss = alpha * model.parameters.map { ($0 * $0).sum() }.reduce(Tensor(scalar: 0), +)
    let totalLoss = dataLoss + regLoss
    totalLoss.backward()
    optimizer.step()
  }
}
