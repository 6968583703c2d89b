/// Convolution layers, named as PyTorch's `nn.Conv2d` and `nn.Conv1d` so that a `state_dict` maps
/// by name: `weight` `[out, in / groups, kh, kw]` (`[out, in / groups, k]`) and `bias` `[out]`.
///
/// PyTorch's default initialisation: Kaiming uniform with a = √5, which reduces to
/// U(−1/√fan_in, 1/√fan_in) for the weight, and the same bound for the bias, with
/// fan_in = (in / groups)·kh·kw.

/// Draws a convolution's weight and bias from U(−1/√fan_in, 1/√fan_in), weight first.
private func convolutionParameters<Scalar: TensorScalar, G: RandomNumberGenerator>(
  _ layer: String, inputChannels: Int, outputChannels: Int, kernel: [Int], groups: Int, bias: Bool,
  using generator: inout G, file: StaticString, line: UInt
) -> (Tensor<Scalar>, Tensor<Scalar>?) {
  if inputChannels < 1 || outputChannels < 1 || groups < 1 || kernel.contains(where: { $0 < 1 }) {
    argumentFailure(
      layer,
      "channels (\(inputChannels), \(outputChannels)), kernel \(kernel) and groups (\(groups)) must be positive",
      file: file, line: line)
  }
  if inputChannels % groups != 0 || outputChannels % groups != 0 {
    argumentFailure(
      layer,
      "groups (\(groups)) must divide the input (\(inputChannels)) and output (\(outputChannels)) channels",
      file: file, line: line)
  }
  let shape = [outputChannels, inputChannels / groups] + kernel
  let bound = 1 / Scalar(elementCount(Array(shape.dropFirst()))).squareRoot()
  let weight = Tensor<Scalar>.randomUniform(shape, low: -bound, high: bound, using: &generator)
  let b =
    bias ? Tensor<Scalar>.randomUniform([outputChannels], low: -bound, high: bound, using: &generator) : nil
  return (weight, b)
}

/// A 2-D convolution layer, PyTorch's `nn.Conv2d`: y = conv2d(x, W) + b.
///
/// - Input `[batch, inputChannels, height, width]`; output `[batch, outputChannels, outH, outW]`
///   with outH = ⌊(H + 2p − d·(k − 1) − 1) / s⌋ + 1.
/// - `weight`: `[outputChannels, inputChannels / groups, kh, kw]`; `bias`: `[outputChannels]`.
///
/// See ``conv2d(_:weight:bias:stride:padding:dilation:groups:file:line:)`` for the kernels.
public final class Conv2d<Scalar: TensorScalar>: Module<Scalar> {
  /// `[outputChannels, inputChannels / groups, kh, kw]`.
  public let weight: Tensor<Scalar>
  /// `[outputChannels]`, or nil for `bias: false`.
  public let bias: Tensor<Scalar>?
  /// The step between windows, per axis.
  public let stride: IntOrPair
  /// Zeros added on each side, per axis.
  public let padding: IntOrPair
  /// The spacing between kernel taps, per axis.
  public let dilation: IntOrPair
  /// The number of channel groups (inputChannels for a depthwise convolution).
  public let groups: Int

  /// A layer with freshly drawn parameters (PyTorch's default initialisation).
  public init<G: RandomNumberGenerator>(
    inputChannels: Int, outputChannels: Int, kernelSize: IntOrPair, stride: IntOrPair = 1,
    padding: IntOrPair = 0, dilation: IntOrPair = 1, groups: Int = 1, bias: Bool = true,
    using generator: inout G, file: StaticString = #fileID, line: UInt = #line
  ) {
    (weight, self.bias) = convolutionParameters(
      "Conv2d", inputChannels: inputChannels, outputChannels: outputChannels,
      kernel: [kernelSize.height, kernelSize.width], groups: groups, bias: bias, using: &generator, file: file,
      line: line)
    (self.stride, self.padding, self.dilation, self.groups) = (stride, padding, dilation, groups)
    super.init()
    registerParameter("weight", weight)
    if let b = self.bias { registerParameter("bias", b) }
  }

  /// conv2d(x, weight) + bias.
  public override func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    conv2d(
      x, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
  }

  /// The scalars of the unfolded-column buffer one call on `inputShape` allocates (see
  /// ``conv2dWorkspaceCount(inputShape:weightShape:stride:padding:dilation:groups:)``).
  public func workspaceCount(inputShape: [Int]) -> Int {
    conv2dWorkspaceCount(
      inputShape: inputShape, weightShape: weight.shape, stride: stride, padding: padding, dilation: dilation,
      groups: groups)
  }
}

/// A 1-D convolution layer, PyTorch's `nn.Conv1d`: y = conv1d(x, W) + b.
///
/// - Input `[batch, inputChannels, length]`; output `[batch, outputChannels, outLength]`.
/// - `weight`: `[outputChannels, inputChannels / groups, kernelSize]`; `bias`: `[outputChannels]`.
public final class Conv1d<Scalar: TensorScalar>: Module<Scalar> {
  /// `[outputChannels, inputChannels / groups, kernelSize]`.
  public let weight: Tensor<Scalar>
  /// `[outputChannels]`, or nil for `bias: false`.
  public let bias: Tensor<Scalar>?
  /// The step between windows.
  public let stride: Int
  /// Zeros added on each side.
  public let padding: Int
  /// The spacing between kernel taps.
  public let dilation: Int
  /// The number of channel groups.
  public let groups: Int

  /// A layer with freshly drawn parameters (PyTorch's default initialisation).
  public init<G: RandomNumberGenerator>(
    inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
    dilation: Int = 1, groups: Int = 1, bias: Bool = true, using generator: inout G,
    file: StaticString = #fileID, line: UInt = #line
  ) {
    (weight, self.bias) = convolutionParameters(
      "Conv1d", inputChannels: inputChannels, outputChannels: outputChannels, kernel: [kernelSize],
      groups: groups, bias: bias, using: &generator, file: file, line: line)
    (self.stride, self.padding, self.dilation, self.groups) = (stride, padding, dilation, groups)
    super.init()
    registerParameter("weight", weight)
    if let b = self.bias { registerParameter("bias", b) }
  }

  /// conv1d(x, weight) + bias.
  public override func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    conv1d(
      x, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
  }
}
