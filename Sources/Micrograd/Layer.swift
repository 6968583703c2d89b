/// A fully connected layer: `outputCount` neurons that each see every input.
public struct Layer: Module {
  /// The neurons, each seeing the whole input.
  public let neurons: [Neuron]

  /// `outputCount` neurons of `inputCount` inputs each, weights from uniform(−1, 1), bias 0.
  public init(
    _ inputCount: Int, _ outputCount: Int, nonlinear: Bool = true,
    using generator: inout some RandomNumberGenerator
  ) {
    var neurons: [Neuron] = []
    neurons.reserveCapacity(outputCount)
    for _ in 0..<outputCount { neurons.append(Neuron(inputCount, nonlinear: nonlinear, using: &generator)) }
    self.neurons = neurons
  }

  /// A layer made of the given neurons.
  public init(neurons: [Neuron]) { self.neurons = neurons }

  /// Each neuron applied to `x`: `[inputCount] → [outputCount]`. (micrograd returns a bare value
  /// for a layer of one neuron; here it is always an array.)
  public func callAsFunction(_ x: [Value]) -> [Value] { neurons.map { $0(x) } }

  /// Each neuron applied to constant inputs.
  public func callAsFunction(_ x: [Double]) -> [Value] { neurons.map { $0(x) } }

  /// Per neuron: its weights, then its bias.
  public var parameters: [Value] { neurons.flatMap(\.parameters) }
}
