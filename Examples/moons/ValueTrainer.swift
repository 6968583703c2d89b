import Micrograd

/// micrograd's demo on the scalar engine: one ``Value`` node per multiply, add and relu, and the loss
/// written exactly as in the demo notebook, so its numbers match Python micrograd's.
struct ValueTrainer: MoonsTrainer {
  static let engineName = "value"
  let model: MLP
  let X: [[Double]]
  let y: [Double]

  init(layerSizes: [Int], parameters: [Double], X: [[Double]], y: [Double]) {
    model = MLP(layerSizes[0], Array(layerSizes.dropFirst()), parameters: parameters)
    self.X = X
    self.y = y
  }

  /// micrograd's `loss()` then `zero_grad()`, `backward()` and `p.data -= learning_rate * p.grad`:
  ///
  ///     losses = [(1 + -yi*scorei).relu() for yi, scorei in zip(yb, scores)]
  ///     data_loss = sum(losses) * (1.0 / len(losses))
  ///     reg_loss = alpha * sum((p*p for p in model.parameters()))
  ///     total_loss = data_loss + reg_loss
  mutating func step(learningRate: Double) -> (loss: Double, accuracy: Double) {
    var dataLoss = Value(0)  // Python's sum() starts from 0
    var correct = 0
    for (xi, yi) in zip(X, y) {
      let score = model(xi)[0]
      dataLoss = dataLoss + (1 + score * -yi).relu()
      if (yi > 0) == (score.data > 0) { correct += 1 }
    }
    dataLoss = dataLoss * (1.0 / Double(X.count))
    var regLoss = Value(0)
    for p in model.parameters { regLoss = regLoss + p * p }
    let loss = dataLoss + regLoss * 1e-4

    model.zeroGrad()
    loss.backward()
    for p in model.parameters { p.data -= learningRate * p.grad }
    return (loss.data, Double(correct) / Double(X.count))
  }

  func scores(_ points: [[Double]]) -> [Double] { points.map { model($0)[0].data } }

  /// The current parameters in micrograd order.
  var parameters: [Double] { model.parameters.map(\.data) }
}
