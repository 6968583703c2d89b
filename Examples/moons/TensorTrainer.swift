import Awesomegrad

/// The same network on the tensor engine, full batch: layer `l` is `h ↦ h·Wₗᵀ + bₗ` with `Wₗ`
/// `[out, in]` and `bₗ` `[out]`, relu between layers; the scores are `[n, 1]`.
struct TensorTrainer: MoonsTrainer {
  static let engineName = "tensor"
  /// `[out, in]` per layer.
  let weights: [Tensor<Double>]
  /// `[out]` per layer.
  let biases: [Tensor<Double>]
  /// `[n, 2]`
  let X: Tensor<Double>
  /// `[n, 1]`, ±1
  let y: Tensor<Double>
  let labels: [Double]

  /// Reads `parameters` in micrograd order (per neuron: its weights, then its bias): neuron `j` of a
  /// layer is row `j` of `W` and element `j` of `b`.
  init(layerSizes: [Int], parameters: [Double], X: [[Double]], y: [Double]) {
    var weights: [Tensor<Double>] = []
    var biases: [Tensor<Double>] = []
    var next = 0
    for (inputs, outputs) in zip(layerSizes, layerSizes.dropFirst()) {
      var w: [Double] = []
      var b: [Double] = []
      for _ in 0..<outputs {
        w += parameters[next..<next + inputs]
        b.append(parameters[next + inputs])
        next += inputs + 1
      }
      weights.append(Tensor(w, shape: [outputs, inputs], requiresGrad: true))
      biases.append(Tensor(b, shape: [outputs], requiresGrad: true))
    }
    self.weights = weights
    self.biases = biases
    self.X = Tensor(X.flatMap { $0 }, shape: [X.count, 2])
    self.y = Tensor(y, shape: [y.count, 1])
    self.labels = y
  }

  /// `[m, 2] → [m, 1]`: x·W₀ᵀ + b₀, relu, …, x·Wₗᵀ + bₗ (no relu on the last layer).
  func forward(_ x: Tensor<Double>) -> Tensor<Double> {
    var h = x
    for l in weights.indices {
      h = h.matmul(weights[l], transposeB: true) + biases[l]
      if l < weights.count - 1 { h = h.relu() }
    }
    return h
  }

  /// loss = mean(relu(1 − y ⊙ score)) + 1e-4 · Σ(W² and b² over all layers); then SGD in place.
  mutating func step(learningRate: Double) -> (loss: Double, accuracy: Double) {
    let scores = forward(X)
    let dataLoss = (1 - y * scores).relu().mean()
    var regLoss = (weights[0] * weights[0]).sum() + (biases[0] * biases[0]).sum()
    for l in weights.indices.dropFirst() {
      regLoss = regLoss + (weights[l] * weights[l]).sum() + (biases[l] * biases[l]).sum()
    }
    let loss = dataLoss + regLoss * 1e-4

    let parameters = weights + biases
    for p in parameters { p.zeroGrad() }
    loss.backward()
    withoutGrad {
      for p in parameters {
        guard let g = p.grad?.scalars else { continue }
        p.updateValues { values in
          for i in values.indices { values[i] -= learningRate * g[i] }
        }
      }
    }
    let s = scores.scalars
    let correct = zip(labels, s).filter { ($0 > 0) == ($1 > 0) }.count
    return (loss.item(), Double(correct) / Double(labels.count))
  }

  func scores(_ points: [[Double]]) -> [Double] {
    withoutGrad { forward(Tensor(points.flatMap { $0 }, shape: [points.count, 2])).scalars }
  }
}
