/// 2-D and 1-D convolution (cross-correlation, as in PyTorch) through im2col and BLAS gemm.
///
/// For one image, one group and an upstream gradient G of the output:
///
///     out[o, p]  = Σₖ W[o, k]·col[k, p] + b[o]            (gemm: W · col)
///     ∂W[o, k]  += Σₚ G[o, p]·col[k, p]                    (gemm: G · colᵀ, β = 1 over the batch)
///     ∂col[k, p] = Σₒ W[o, k]·G[o, p]                      (gemm: Wᵀ · G), then ∂x = fold(∂col)
///     ∂b[o]     += Σₚ G[o, p]
///
/// where `col` is the unfolded image (see `Im2Col.swift`), k runs over (channel, ki, kj) and p over
/// the output positions. A 1×1, stride-1, unpadded kernel uses the image itself as `col`.
///
/// The unfolded columns are never kept: the pullback unfolds the input again, so the memory a
/// convolution holds between forward and backward is its input and weight only. The unfolded buffer
/// covers a block of output rows of one image and is at most `convolutionWorkspaceLimit` (2²⁰) scalars
/// (or one output row's columns, if that is larger).

/// A size given once for both spatial axes (`3`) or per axis (`[3, 5]`, height then width), like
/// PyTorch's `int or tuple` arguments of `conv2d` and the pooling functions.
public struct IntOrPair: Sendable, Equatable, ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral,
  CustomStringConvertible
{
  /// The size along the height axis.
  public let height: Int
  /// The size along the width axis.
  public let width: Int

  /// The same size on both axes.
  public init(_ both: Int) { (height, width) = (both, both) }

  /// A size per axis.
  public init(_ height: Int, _ width: Int) { (self.height, self.width) = (height, width) }

  /// `3` means 3 on both axes.
  public init(integerLiteral value: Int) { self.init(value) }

  /// `[height, width]`, or `[both]`.
  public init(arrayLiteral elements: Int...) {
    if elements.count != 1 && elements.count != 2 {
      argumentFailure(
        "IntOrPair", "give one size or two (height, width), got \(elements)", file: #fileID, line: #line)
    }
    self.init(elements[0], elements[elements.count - 1])
  }

  /// One number when both sizes agree, else `(height, width)`, as PyTorch prints them.
  public var description: String { height == width ? "\(height)" : "(\(height), \(width))" }
}

/// The most scalars one convolution call allocates for unfolded columns (4 MiB in Float): the
/// work is split into blocks of output rows that fit. A single output row's columns may exceed it
/// (for a very wide image with a large kernel); the buffer is then one row.
let convolutionWorkspaceLimit = 1 << 20

/// The number of scalars of the unfolded-column buffer that ``conv2d(_:weight:bias:stride:padding:dilation:groups:file:line:)``
/// allocates for these shapes (0 for a 1×1, stride-1, unpadded kernel, which needs none). The
/// pullback uses one buffer of the same size. Multiply by `MemoryLayout<Scalar>.size` for bytes.
///
/// - Parameters:
///   - inputShape: `[batch, channels, height, width]`.
///   - weightShape: `[outChannels, channels / groups, kh, kw]`.
///   - stride: the step between windows per axis, or one number for both.
///   - padding: zeros added on each side per axis, or one number for both.
///   - dilation: the spacing of the kernel's taps per axis, or one number for both.
///   - groups: the number of channel groups.
public func conv2dWorkspaceCount(
  inputShape: [Int], weightShape: [Int], stride: IntOrPair = 1, padding: IntOrPair = 0,
  dilation: IntOrPair = 1, groups: Int = 1
) -> Int {
  if inputShape.count != 4 || weightShape.count != 4 {
    argumentFailure(
      "conv2dWorkspaceCount",
      "the shapes must be [batch, channels, height, width] and [out, in / groups, kh, kw], "
        + "got \(inputShape) and \(weightShape)", file: #fileID, line: #line)
  }
  let geometry = ConvGeometry(
    channels: inputShape[1] / Swift.max(groups, 1), height: inputShape[2], width: inputShape[3],
    kernelH: weightShape[2], kernelW: weightShape[3], strideH: stride.height, strideW: stride.width,
    padH: padding.height, padW: padding.width, dilationH: dilation.height, dilationW: dilation.width)
  return ConvPlan(geometry).workspaceCount
}

/// 2-D convolution of a batch of images, as PyTorch's `torch.nn.functional.conv2d`.
///
///     out[n, o, i, j] = b[o] + Σ_{c ∈ group(o)} Σ_{ki, kj} W[o, c, ki, kj] · x[n, c, i·sh − ph + ki·dh, j·sw − pw + kj·dw]
///
/// with x read as 0 outside the image. Output size per axis: ⌊(H + 2p − d·(k − 1) − 1) / s⌋ + 1.
///
/// - Parameters:
///   - input: `[batch, channels, height, width]` (NCHW).
///   - weight: `[outChannels, channels / groups, kh, kw]`.
///   - bias: `[outChannels]`, or nil.
///   - stride: the step between windows per axis, or one number for both.
///   - padding: zeros added on each side per axis, or one number for both.
///   - dilation: the spacing of the kernel's taps per axis, or one number for both.
///   - groups: splits the channels into groups convolved separately; `groups == channels ==
///     outChannels` is a depthwise convolution.
///   - file: the caller's file (`#fileID`), named in error messages and by anomaly mode.
///   - line: the caller's line.
/// - Returns: `[batch, outChannels, outH, outW]`.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func conv2d<Scalar: TensorScalar>(
  _ input: Tensor<Scalar>, weight: Tensor<Scalar>, bias: Tensor<Scalar>? = nil, stride: IntOrPair = 1,
  padding: IntOrPair = 0, dilation: IntOrPair = 1, groups: Int = 1,
  file: StaticString = #fileID, line: UInt = #line
) -> Tensor<Scalar> {
  let (xShape, wShape) = (input.shape, weight.shape)
  func fail(_ problem: String) -> Never {
    shapeFailure(
      "conv2d", problem, shapes: [xShape, wShape] + (bias.map { [$0.shape] } ?? []), file: file, line: line)
  }
  if xShape.count != 4 { fail("the input must be [batch, channels, height, width]") }
  if wShape.count != 4 { fail("the weight must be [outChannels, channels / groups, kh, kw]") }
  if groups < 1 { fail("groups must be at least 1, got \(groups)") }
  if stride.height < 1 || stride.width < 1 { fail("stride must be at least 1, got \(stride)") }
  if dilation.height < 1 || dilation.width < 1 { fail("dilation must be at least 1, got \(dilation)") }
  if padding.height < 0 || padding.width < 0 { fail("padding must not be negative, got \(padding)") }
  let (batch, channels, outChannels) = (xShape[0], xShape[1], wShape[0])
  if channels % groups != 0 || outChannels % groups != 0 {
    fail(
      "groups (\(groups)) must divide the input channels (\(channels)) and output channels (\(outChannels))")
  }
  if wShape[1] != channels / groups {
    fail("the weight has \(wShape[1]) input channels per group; the input needs \(channels / groups)")
  }
  if let bias, bias.shape != [outChannels] { fail("the bias must be [\(outChannels)]") }
  if wShape[2] < 1 || wShape[3] < 1 { fail("the kernel must be at least 1×1") }
  let geometry = ConvGeometry(
    channels: channels / groups, height: xShape[2], width: xShape[3], kernelH: wShape[2], kernelW: wShape[3],
    strideH: stride.height, strideW: stride.width, padH: padding.height, padW: padding.width,
    dilationH: dilation.height, dilationW: dilation.width)
  if geometry.outH < 1 || geometry.outW < 1 {
    fail(
      "the kernel (\(wShape[2])×\(wShape[3]), dilation \(dilation)) is larger than the padded input "
        + "(\(xShape[2] + 2 * padding.height)×\(xShape[3] + 2 * padding.width))")
  }
  let plan = ConvPlan(geometry)
  let x = input.storage, w = weight.storage, b = bias?.storage
  let out = Storage<Scalar>(uninitializedShape: [batch, outChannels, geometry.outH, geometry.outW])
  CPU.convolutionForward(
    x.buffer.base, weight: w.buffer.base, bias: b?.buffer.base, into: out.buffer.base, batch: batch,
    outChannels: outChannels, groups: groups, plan: plan)

  let (needX, needW, needB) = (input.requiresGrad, weight.requiresGrad, bias?.requiresGrad ?? false)
  let parents = bias.map { [input, weight, $0] } ?? [input, weight]
  return Tensor(out, op: "conv2d", parents: parents) { g, graph in
    if let graph {
      return graph.recordThrough { p in
        unfoldedConvolution(p[0], weight: p[1], bias: b == nil ? nil : p[2], groups: groups, geometry: geometry)
      }
    }
    let gx = needX ? Storage<Scalar>(uninitializedShape: x.shape) : nil
    let gw = needW ? Storage<Scalar>(uninitializedShape: w.shape) : nil
    let gb = needB ? Storage<Scalar>(uninitializedShape: [outChannels]) : nil
    CPU.convolutionBackward(
      g.buffer.base, x.buffer.base, weight: w.buffer.base, inputGradient: gx?.buffer.base,
      weightGradient: gw?.buffer.base, biasGradient: gb?.buffer.base, batch: batch, outChannels: outChannels,
      groups: groups, plan: plan)
    return b == nil ? [gx, gw] : [gx, gw, gb]
  }
}

/// conv2d written with differentiable ops, for gradients of gradients: the input is padded (a
/// scatter into zeros), unfolded into columns `[N, groups, C/groups·kh·kw, oH·oW]` (a gather), and
/// multiplied by the weight viewed as `[1, groups, O/groups, C/groups·kh·kw]`, then the bias is added.
/// Each step's adjoint is the other kind of step, so the result differentiates to any order.
func unfoldedConvolution<Scalar: TensorScalar>(
  _ input: Tensor<Scalar>, weight: Tensor<Scalar>, bias: Tensor<Scalar>?, groups: Int, geometry: ConvGeometry
) -> Tensor<Scalar> {
  let (n, channels, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
  let outChannels = weight.shape[0]
  let (kh, kw) = (geometry.kernelH, geometry.kernelW)
  let (oh, ow) = (geometry.outH, geometry.outW)
  let (hp, wp) = (h + 2 * geometry.padH, w + 2 * geometry.padW)
  var padOffsets: [Int] = []
  padOffsets.reserveCapacity(input.count)
  for plane in 0..<(n * channels) {
    for i in 0..<h {
      for j in 0..<w { padOffsets.append((plane * hp + i + geometry.padH) * wp + j + geometry.padW) }
    }
  }
  let padded = input.scatteringElements(at: padOffsets, shape: [n, channels, hp, wp])
  let perGroup = channels / groups
  var columnOffsets: [Int] = []
  columnOffsets.reserveCapacity(n * channels * kh * kw * oh * ow)
  for sample in 0..<n {
    for channel in 0..<channels {
      let plane = sample * channels + channel
      for ki in 0..<kh {
        for kj in 0..<kw {
          for oi in 0..<oh {
            let row = oi * geometry.strideH + ki * geometry.dilationH
            for oj in 0..<ow {
              columnOffsets.append((plane * hp + row) * wp + oj * geometry.strideW + kj * geometry.dilationW)
            }
          }
        }
      }
    }
  }
  let columns = padded.gatheringElements(
    at: columnOffsets, shape: [n, groups, perGroup * kh * kw, oh * ow])
  let kernels = weight.reshaped([1, groups, outChannels / groups, perGroup * kh * kw])
  var out = kernels.matmul(columns).reshaped([n, outChannels, oh, ow])
  if let bias { out = out + bias.reshaped([1, outChannels, 1, 1]) }
  return out
}

/// 1-D convolution of a batch of sequences, as PyTorch's `torch.nn.functional.conv1d`:
///
///     out[n, o, i] = b[o] + Σ_{c ∈ group(o)} Σ_k W[o, c, k] · x[n, c, i·s − p + k·d]
///
/// It is ``conv2d(_:weight:bias:stride:padding:dilation:groups:file:line:)`` on images of height 1.
///
/// - Parameters:
///   - input: `[batch, channels, length]` (NCL).
///   - weight: `[outChannels, channels / groups, kernel]`.
///   - bias: `[outChannels]`, or nil.
///   - stride: the step between windows.
///   - padding: zeros added on each side.
///   - dilation: the spacing of the kernel's taps.
///   - groups: the number of channel groups (`channels` for a depthwise convolution).
///   - file: the caller's file (`#fileID`), named in error messages and by anomaly mode.
///   - line: the caller's line.
/// - Returns: `[batch, outChannels, ⌊(L + 2p − d·(k − 1) − 1) / s⌋ + 1]`.
public func conv1d<Scalar: TensorScalar>(
  _ input: Tensor<Scalar>, weight: Tensor<Scalar>, bias: Tensor<Scalar>? = nil, stride: Int = 1,
  padding: Int = 0, dilation: Int = 1, groups: Int = 1,
  file: StaticString = #fileID, line: UInt = #line
) -> Tensor<Scalar> {
  if input.rank != 3 || weight.rank != 3 {
    shapeFailure(
      "conv1d",
      "the input must be [batch, channels, length] and the weight [outChannels, channels / groups, kernel]",
      shapes: [input.shape, weight.shape], file: file, line: line)
  }
  let (x, w) = (input.shape, weight.shape)
  let image = input.reshaped([x[0], x[1], 1, x[2]], file: file, line: line)
  let kernel = weight.reshaped([w[0], w[1], 1, w[2]], file: file, line: line)
  let out = conv2d(
    image, weight: kernel, bias: bias, stride: IntOrPair(1, stride), padding: IntOrPair(0, padding),
    dilation: IntOrPair(1, dilation), groups: groups, file: file, line: line)
  let o = out.shape
  return out.reshaped([o[0], o[1], o[3]], file: file, line: line)
}
