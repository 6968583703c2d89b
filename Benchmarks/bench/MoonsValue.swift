import Awesomegrad
import Micrograd

/// micrograd's moons demo step on the scalar `Value` engine, written as micrograd's `demo.ipynb`
/// writes its loop body:
///
///     inputs = [list(map(Value, xrow)) for xrow in X]
///     scores = list(map(model, inputs))
///     losses = [(1 + -yi*scorei).relu() for yi, scorei in zip(y, scores)]
///     data_loss = sum(losses) * (1.0 / len(losses))
///     reg_loss = alpha * sum((p*p for p in model.parameters()))
///     total_loss = data_loss + reg_loss
///     model.zero_grad(); total_loss.backward()
///     for p in model.parameters(): p.data -= learning_rate * p.grad
///
/// over all 100 points with MLP(2, [16, 16, 1]) and alpha = 1e-4. Python's `sum` starts from 0, so
/// the sums here start from `Value(0)` too: the graph has the same nodes as micrograd's.
final class MoonsValue: Workload {
  static let name = "moons-value"
  static let engine = "micrograd-swift"
  static let dtype = "float64"
  static let defaultSteps = 50
  /// About 0.1 s, like moons-tensor's warm-up (micrograd's two warm-up steps take over 2 s).
  static let warmUpSteps = 20

  let X: [[Double]]
  let y: [Double]
  let model: Micrograd.MLP
  let learningRate = 0.05
  let alpha = 1e-4

  init() {
    let problem = MoonsProblem()
    X = problem.rows
    y = problem.signs
    var generator = SeededGenerator(seed: 1)
    model = Micrograd.MLP(2, [16, 16, 1], using: &generator)
  }

  func step() {
    let inputs = X.map { row in row.map { Value($0) } }
    let scores = inputs.map { model($0)[0] }
    let losses = zip(y, scores).map { yi, scorei in (1 + -yi * scorei).relu() }
    let dataLoss = losses.reduce(Value(0), +) * (1.0 / Double(losses.count))
    let regLoss = alpha * model.parameters.reduce(Value(0)) { $0 + $1 * $1 }
    let totalLoss = dataLoss + regLoss
    model.zeroGrad()
    totalLoss.backward()
    for p in model.parameters { p.data -= learningRate * p.grad }
  }
}
