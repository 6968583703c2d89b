/// How a ``Linear`` layer draws its initial weight and bias.
public enum LinearInitialization: Sendable, Equatable {
  /// PyTorch's default for `nn.Linear`: weight and bias from U(−1/√fan_in, 1/√fan_in)
  /// (Kaiming uniform with a = √5, which reduces to that bound).
  case kaimingUniform
  /// micrograd's `Neuron`: weight from U(−1, 1), bias 0.
  case microgradUniform
  /// Glorot/Xavier: weight from U(−a, a), a = √(6 / (fan_in + fan_out)); bias 0.
  case xavierUniform
}

/// A fully connected layer: y = x·Wᵀ + b.
///
/// - `weight`: `[outputs, inputs]`, PyTorch's layout, so a `state_dict` loads without transposing.
/// - `bias`: `[outputs]`, or nil for `bias: false`.
/// - Input `[batch, inputs]` (or `[..., inputs]`); output `[batch, outputs]`.
///
/// The forward pass is one gemm with `transposeB`; the backward pass two more (∂x = G·W, ∂W = Gᵀ·x),
/// none of them copying a transpose.
public final class Linear<Scalar: TensorScalar>: Module<Scalar> {
  /// `[outputs, inputs]`.
  public let weight: Tensor<Scalar>
  /// `[outputs]`.
  public let bias: Tensor<Scalar>?

  /// The number of input features.
  public var inputs: Int { weight.shape[1] }
  /// The number of output features.
  public var outputs: Int { weight.shape[0] }

  /// A layer with freshly drawn parameters.
  public init<G: RandomNumberGenerator>(
    inputs: Int, outputs: Int, bias: Bool = true, initialization: LinearInitialization = .kaimingUniform,
    using generator: inout G, file: StaticString = #fileID, line: UInt = #line
  ) {
    if inputs <= 0 || outputs <= 0 {
      argumentFailure(
        "Linear", "inputs and outputs must be positive, got \(inputs) and \(outputs)", file: file, line: line)
    }
    let weightBound: Scalar
    switch initialization {
    case .kaimingUniform: weightBound = 1 / Scalar(inputs).squareRoot()
    case .microgradUniform: weightBound = 1
    case .xavierUniform: weightBound = (6 / Scalar(inputs + outputs)).squareRoot()
    }
    weight = .randomUniform(
      [outputs, inputs], low: -weightBound, high: weightBound, requiresGrad: true, using: &generator)
    if bias {
      self.bias =
        initialization == .kaimingUniform
        ? .randomUniform(
          [outputs], low: -weightBound, high: weightBound, requiresGrad: true, using: &generator)
        : .zeros([outputs], requiresGrad: true)
    } else {
      self.bias = nil
    }
    super.init()
    registerParameters()
  }

  /// A layer over given parameters (made to require grad): `weight` `[outputs, inputs]`, `bias` `[outputs]`.
  public init(weight: Tensor<Scalar>, bias: Tensor<Scalar>?, file: StaticString = #fileID, line: UInt = #line) {
    if weight.rank != 2 {
      argumentFailure("Linear", "weight must be [outputs, inputs], got \(weight.shape)", file: file, line: line)
    }
    if let bias, bias.shape != [weight.shape[0]] {
      argumentFailure("Linear", "bias must be [\(weight.shape[0])], got \(bias.shape)", file: file, line: line)
    }
    self.weight = weight
    self.bias = bias
    super.init()
    registerParameters()
  }

  private func registerParameters() {
    registerParameter("weight", weight)
    if let bias { registerParameter("bias", bias) }
  }

  /// x·Wᵀ + b.  x: `[batch, inputs]` → `[batch, outputs]`: one op with a bias
  /// (``Tensor/linear(weight:bias:file:line:)``), a matmul without.
  public override func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    guard let bias else { return x.matmul(weight, transposeB: true) }
    return x.linear(weight: weight, bias: bias)
  }
}
