import Awesomegrad

/// The same network on the tensor engine, built from the library's modules and trained full batch:
/// `Sequential(Linear(2, 16), ReLU(), Linear(16, 16), ReLU(), Linear(16, 1))`, each `Linear` holding
/// its weight `[out, in]` and bias `[out]`, so the scores are `[n, 1]`.
struct TensorTrainer: MoonsTrainer {
  static let engineName = "tensor"
  let model: Sequential<Double>
  let optimizer: SGD<Double>
  /// `[n, 2]`
  let X: Tensor<Double>
  /// `[n, 1]`, ±1
  let y: Tensor<Double>
  let labels: [Double]

  /// Reads `parameters` in micrograd order (per neuron: its weights, then its bias): neuron `j` of a
  /// layer is row `j` of that `Linear`'s weight and element `j` of its bias.
  init(layerSizes: [Int], parameters: [Double], X: [[Double]], y: [Double]) {
    var layers: [Module<Double>] = []
    var next = 0
    for (inputs, outputs) in zip(layerSizes, layerSizes.dropFirst()) {
      var w: [Double] = []
      var b: [Double] = []
      for _ in 0..<outputs {
        w += parameters[next..<next + inputs]
        b.append(parameters[next + inputs])
        next += inputs + 1
      }
      if !layers.isEmpty { layers.append(ReLU<Double>()) }
      layers.append(Linear(weight: Tensor(w, shape: [outputs, inputs]), bias: Tensor(b)))
    }
    model = Sequential(layers)
    optimizer = SGD(model.parameters, learningRate: 1)
    self.X = Tensor(X.flatMap { $0 }, shape: [X.count, 2])
    self.y = Tensor(y, shape: [y.count, 1])
    self.labels = y
  }

  /// loss = mean(relu(1 − y ⊙ score)) + 1e-4 · Σθ² over all parameters, and the scores `[n, 1]`.
  func loss() -> (loss: Tensor<Double>, scores: Tensor<Double>) {
    let scores = model(X)
    var l2 = Tensor<Double>(scalar: 0)
    for p in model.parameters { l2 = l2 + (p * p).sum() }
    return (hingeLoss(scores, labels: y) + 1e-4 * l2, scores)
  }

  /// The loss, then one SGD step.
  mutating func step(learningRate: Double) -> (loss: Double, accuracy: Double) {
    let (loss, scores) = self.loss()

    optimizer.zeroGrad()
    loss.backward()
    optimizer.learningRate = learningRate
    optimizer.step()

    let s = scores.scalars
    let correct = zip(labels, s).filter { ($0 > 0) == ($1 > 0) }.count
    return (loss.item(), Double(correct) / Double(labels.count))
  }

  func scores(_ points: [[Double]]) -> [Double] {
    withoutGrad { model(Tensor(points.flatMap { $0 }, shape: [points.count, 2])).scalars }
  }

  /// The graph of one training step as Graphviz DOT: the loss's forward graph with the parameters'
  /// names and, after a backward pass that keeps the graph, their gradient norms. Leaves the
  /// parameters' values and gradients as they were.
  func graphOfOneStep() -> String {
    let (loss, _) = self.loss()
    optimizer.zeroGrad()
    loss.backward(retainGraph: true)
    let names = model.namedParameters + [("X", X), ("y", y)]
    defer { optimizer.zeroGrad() }
    return loss.graphviz(names: names)
  }
}
