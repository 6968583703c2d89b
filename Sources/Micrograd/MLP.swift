/// A multi-layer perceptron: fully connected layers with `relu` after every layer but the last.
///
/// `MLP(2, [16, 16, 1])` maps 2 inputs through two hidden layers of 16 to one linear output, the
/// network of micrograd's demo.
public struct MLP: Module {
  /// The layers, first to last.
  public let layers: [Layer]
  /// Per layer, per neuron: its weights, then its bias (micrograd's order). Computed once.
  public let parameters: [Value]

  /// Weights from uniform(−1, 1) drawn from `generator` layer by layer, neuron by neuron; biases 0.
  public init(_ inputCount: Int, _ layerSizes: [Int], using generator: inout some RandomNumberGenerator) {
    let sizes = [inputCount] + layerSizes
    var layers: [Layer] = []
    for i in layerSizes.indices {
      layers.append(Layer(sizes[i], sizes[i + 1], nonlinear: i != layerSizes.count - 1, using: &generator))
    }
    self.init(layers: layers)
  }

  /// A network with the given parameter values, in the order of ``parameters``.
  public init(_ inputCount: Int, _ layerSizes: [Int], parameters values: [Double]) {
    let sizes = [inputCount] + layerSizes
    let expected = layerSizes.indices.reduce(0) { $0 + sizes[$1 + 1] * (sizes[$1] + 1) }
    if values.count != expected {
      fatalError("MLP(\(inputCount), \(layerSizes)) has \(expected) parameters, not \(values.count)")
    }
    var next = 0
    var layers: [Layer] = []
    for i in layerSizes.indices {
      var neurons: [Neuron] = []
      for _ in 0..<sizes[i + 1] {
        let weights = Array(values[next..<next + sizes[i]])
        neurons.append(
          Neuron(weights: weights, bias: values[next + sizes[i]], nonlinear: i != layerSizes.count - 1))
        next += sizes[i] + 1
      }
      layers.append(Layer(neurons: neurons))
    }
    self.init(layers: layers)
  }

  /// A network made of the given layers.
  public init(layers: [Layer]) {
    self.layers = layers
    self.parameters = layers.flatMap(\.parameters)
  }

  /// The layers applied in turn: `[inputCount] → [layerSizes.last]`.
  public func callAsFunction(_ x: [Value]) -> [Value] {
    var activations = x
    for layer in layers { activations = layer(activations) }
    return activations
  }

  /// The network applied to constant inputs.
  public func callAsFunction(_ x: [Double]) -> [Value] {
    guard let first = layers.first else { return x.map { Value($0) } }
    var activations = first(x)
    for layer in layers.dropFirst() { activations = layer(activations) }
    return activations
  }
}
