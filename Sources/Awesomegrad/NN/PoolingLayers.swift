/// Pooling and flattening as parameter-free modules, named as PyTorch's `nn.MaxPool2d`,
/// `nn.AvgPool2d`, `nn.AdaptiveAvgPool2d` and `nn.Flatten`, so they can sit in a ``Sequential``.

/// The maximum of each window: ``maxPool2d(_:kernelSize:stride:padding:file:line:)``.
/// `[batch, channels, H, W]` → `[batch, channels, ⌊(H + 2p − k) / s⌋ + 1, …]`.
public final class MaxPool2d<Scalar: TensorScalar>: Module<Scalar> {
  /// The window.
  public let kernelSize: IntOrPair
  /// The step between windows (the kernel size by default).
  public let stride: IntOrPair
  /// Implicit padding on each side, never the maximum.
  public let padding: IntOrPair

  /// - Parameters:
  ///   - kernelSize: the window.
  ///   - stride: nil (the default) for the kernel size, as in PyTorch.
  ///   - padding: at most half the kernel.
  public init(kernelSize: IntOrPair, stride: IntOrPair? = nil, padding: IntOrPair = 0) {
    (self.kernelSize, self.stride, self.padding) = (kernelSize, stride ?? kernelSize, padding)
  }

  /// `[batch, channels, H, W]` → the window maxima.
  public override func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    maxPool2d(x, kernelSize: kernelSize, stride: stride, padding: padding)
  }
}

/// The mean of each window: ``avgPool2d(_:kernelSize:stride:padding:countIncludePad:file:line:)``.
public final class AvgPool2d<Scalar: TensorScalar>: Module<Scalar> {
  /// The window.
  public let kernelSize: IntOrPair
  /// The step between windows (the kernel size by default).
  public let stride: IntOrPair
  /// Implicit zero padding on each side.
  public let padding: IntOrPair
  /// Whether the padding a window overlaps counts in its divisor (PyTorch's default, true).
  public let countIncludePad: Bool

  /// - Parameters:
  ///   - kernelSize: the window.
  ///   - stride: nil (the default) for the kernel size, as in PyTorch.
  ///   - padding: at most half the kernel.
  ///   - countIncludePad: divide by the padded window's size (true) or by the pixels inside.
  public init(
    kernelSize: IntOrPair, stride: IntOrPair? = nil, padding: IntOrPair = 0, countIncludePad: Bool = true
  ) {
    (self.kernelSize, self.stride, self.padding) = (kernelSize, stride ?? kernelSize, padding)
    self.countIncludePad = countIncludePad
  }

  /// `[batch, channels, H, W]` → the window means.
  public override func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    avgPool2d(x, kernelSize: kernelSize, stride: stride, padding: padding, countIncludePad: countIncludePad)
  }
}

/// The mean over an adaptive grid of windows: ``adaptiveAvgPool2d(_:outputSize:file:line:)``.
/// `[batch, channels, H, W]` → `[batch, channels, oH, oW]`; `outputSize: 1` is global average pooling.
public final class AdaptiveAvgPool2d<Scalar: TensorScalar>: Module<Scalar> {
  /// The output's height and width.
  public let outputSize: IntOrPair

  /// - Parameter outputSize: `[oH, oW]`, or one size for both; each at least 1.
  public init(outputSize: IntOrPair) { self.outputSize = outputSize }

  /// `[batch, channels, H, W]` → `[batch, channels, oH, oW]`.
  public override func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    adaptiveAvgPool2d(x, outputSize: outputSize)
  }
}

/// Merges axes `startAxis...endAxis` into one, as PyTorch's `nn.Flatten` (whose defaults, 1 and −1,
/// turn `[batch, channels, height, width]` into `[batch, channels·height·width]`).
public final class Flatten<Scalar: TensorScalar>: Module<Scalar> {
  /// The first axis merged (1 keeps the batch axis).
  public let startAxis: Int
  /// The last axis merged; negative counts from the end.
  public let endAxis: Int

  /// Merges axes `startAxis...endAxis` (PyTorch's defaults: 1 and −1).
  public init(startAxis: Int = 1, endAxis: Int = -1) { (self.startAxis, self.endAxis) = (startAxis, endAxis) }

  /// The input with the axes merged; a view of the same values.
  public override func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    x.flattened(startAxis: startAxis, endAxis: endAxis)
  }
}
