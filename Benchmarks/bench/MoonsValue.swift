import Awesomegrad
import Micrograd

/// micrograd's moons demo step on the scalar `Value` engine, as in micrograd's `demo.ipynb`:
///
///     inputs = [list(map(Value, xrow)) for xrow in X]
///     scores = list(map(model, inputs))
///     losses = [(1 + -yi*scorei).relu() for yi, scorei in zip(y, scores)]
///     data_loss = sum(losses) * (1.0 / len(losses))
///     reg_loss = alpha * sum((p*p for p in model.parameters()))
///     model.zero_grad(); total_loss.backward(); p.data -= learning_rate * p.grad
///
/// over all 100 points with MLP(2, [16, 16, 1]) and alpha = 1e-4.
final class MoonsValue: Workload {
  static let name = "moons-value"
  static let engine = "micrograd-swift"
  static let dtype = "float64"
  static let defaultSteps = 50
  static let warmUpSteps = 3

  let data: MoonsData
  let model: Micrograd.MLP
  let learningRate = 0.05

  init() {
    var rng = SeededGenerator(seed: 0)
    data = MoonsData(count: 100, using: &rng)
    model = Micrograd.MLP(2, [16, 16, 1], using: &rng)
  }

  func step() {
    let inputs = data.points.map { row in row.map { Value($0) } }
    let scores = inputs.map { model($0)[0] }
    var losses: [Value] = []
    losses.reserveCapacity(scores.count)
    for (yi, score) in zip(data.labels, scores) { losses.append((1 + -yi * score).relu()) }
    let dataLoss = losses.dropFirst().reduce(losses[0], +) * (1.0 / Double(losses.count))
    let parameters = model.parameters
    let regLoss = 1e-4 * parameters.dropFirst().reduce(parameters[0] * parameters[0]) { $0 + $1 * $1 }
    let totalLoss = dataLoss + regLoss
    model.zeroGrad()
    totalLoss.backward()
    for p in parameters { p.data -= learningRate * p.grad }
  }
}
