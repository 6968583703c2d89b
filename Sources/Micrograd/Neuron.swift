/// One neuron: `act = b + Σᵢ wᵢ·xᵢ`, followed by `relu` when it is nonlinear.
///
/// The sum starts from the bias and adds `w₀x₀`, `w₁x₁`, … left to right, as micrograd's
/// `sum((wi*xi for wi, xi in zip(self.w, x)), self.b)` does, so results match micrograd's bit for bit.
public struct Neuron: Module {
  /// One weight per input.
  public let weights: [Value]
  /// b, added to the weighted sum.
  public let bias: Value
  /// Whether the output goes through `relu`.
  public let isNonlinear: Bool

  /// A neuron with `inputCount` weights drawn from uniform(−1, 1) and bias 0, as micrograd makes them.
  public init(_ inputCount: Int, nonlinear: Bool = true, using generator: inout some RandomNumberGenerator) {
    self.init(
      weights: (0..<inputCount).map { _ in Double.random(in: -1...1, using: &generator) },
      bias: 0, nonlinear: nonlinear)
  }

  /// A neuron with the given weights and bias.
  public init(weights: [Double], bias: Double, nonlinear: Bool = true) {
    self.weights = weights.map { Value($0) }
    self.bias = Value(bias)
    self.isNonlinear = nonlinear
  }

  /// `b + Σᵢ wᵢ·xᵢ`, through `relu` if nonlinear. `x` must have one element per weight.
  public func callAsFunction(_ x: [Value]) -> Value {
    if x.count != weights.count { fatalError("Neuron: \(x.count) inputs for \(weights.count) weights") }
    var activation = bias
    for i in weights.indices { activation = activation + weights[i] * x[i] }
    return isNonlinear ? activation.relu() : activation
  }

  /// The neuron applied to constant inputs: `b + Σᵢ wᵢ·xᵢ` with each `xᵢ` a `Double`.
  public func callAsFunction(_ x: [Double]) -> Value {
    if x.count != weights.count { fatalError("Neuron: \(x.count) inputs for \(weights.count) weights") }
    var activation = bias
    for i in weights.indices { activation = activation + weights[i] * x[i] }
    return isNonlinear ? activation.relu() : activation
  }

  /// The weights, then the bias.
  public var parameters: [Value] { weights + [bias] }
}
