/// 2-D pooling over NCHW batches: max, average and adaptive average, as PyTorch's
/// `torch.nn.functional.max_pool2d`, `avg_pool2d` and `adaptive_avg_pool2d`.
///
/// Each (sample, channel) plane is pooled on its own. Output size per axis (max and average):
/// ⌊(H + 2p − k) / s⌋ + 1. The window of output (i, j) covers rows i·s − p ..< i·s − p + k, clipped
/// to the image (padding is never a candidate for the maximum).

/// The pooled planes' sizes, checked against PyTorch's rules.
struct PoolGeometry {
  var planes: Int, height: Int, width: Int
  var kernelH: Int, kernelW: Int, strideH: Int, strideW: Int, padH: Int, padW: Int
  var outH: Int { (height + 2 * padH - kernelH) / strideH + 1 }
  var outW: Int { (width + 2 * padW - kernelW) / strideW + 1 }

  /// Validates the arguments of pooling op `op` on `shape`, stopping with a message that names them.
  init(
    _ op: String, shape: [Int], kernel: IntOrPair, stride: IntOrPair?, padding: IntOrPair,
    file: StaticString, line: UInt
  ) {
    func fail(_ problem: String) -> Never {
      shapeFailure(op, problem, shapes: [shape], file: file, line: line)
    }
    if shape.count != 4 { fail("the input must be [batch, channels, height, width]") }
    let stride = stride ?? kernel
    if kernel.height < 1 || kernel.width < 1 { fail("the kernel size must be at least 1, got \(kernel)") }
    if stride.height < 1 || stride.width < 1 { fail("the stride must be at least 1, got \(stride)") }
    if padding.height < 0 || padding.width < 0 || 2 * padding.height > kernel.height
      || 2 * padding.width > kernel.width
    {
      fail("padding (\(padding)) must be between 0 and half the kernel size (\(kernel))")
    }
    planes = shape[0] * shape[1]
    (height, width) = (shape[2], shape[3])
    (kernelH, kernelW) = (kernel.height, kernel.width)
    (strideH, strideW) = (stride.height, stride.width)
    (padH, padW) = (padding.height, padding.width)
    if height + 2 * padH < kernelH || width + 2 * padW < kernelW {
      fail(
        "the kernel (\(kernel)) is larger than the padded input (\(height + 2 * padH)×\(width + 2 * padW))")
    }
  }

  var outputShape: (Int, Int) { (outH, outW) }
}

/// The maximum of each window, as PyTorch's `max_pool2d` (no dilation, floor rounding).
///
///     out[n, c, i, j] = max over the window of x[n, c, ·, ·]
///
/// The forward pass saves, for each output, the position of the maximum it took, and the pullback
/// adds the output's gradient there: ∂x[argmax] += g. Ties go to the first maximum in row-major scan
/// order. A NaN wins over any number, and a later NaN over an earlier one, so a window with a NaN
/// outputs NaN and sends its gradient to its last NaN (PyTorch's rule: `val > max || isnan(val)`).
///
/// - Parameters:
///   - input: `[batch, channels, height, width]`.
///   - kernelSize: the window, `k` or `[kh, kw]`.
///   - stride: the step between windows; nil (the default) means the kernel size, as in PyTorch.
///   - padding: implicit padding on each side, at most half the kernel; it is never the maximum.
///   - file: the caller's file (`#fileID`), named in error messages and by anomaly mode.
///   - line: the caller's line.
/// - Returns: `[batch, channels, ⌊(H + 2p − k) / s⌋ + 1, ⌊(W + 2p − k) / s⌋ + 1]`.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func maxPool2d<Scalar: TensorScalar>(
  _ input: Tensor<Scalar>, kernelSize: IntOrPair, stride: IntOrPair? = nil, padding: IntOrPair = 0,
  file: StaticString = #fileID, line: UInt = #line
) -> Tensor<Scalar> {
  let g = PoolGeometry(
    "maxPool2d", shape: input.shape, kernel: kernelSize, stride: stride, padding: padding, file: file,
    line: line)
  let inputShape = input.shape
  let (outH, outW) = g.outputShape
  let out = Storage<Scalar>(uninitializedShape: [inputShape[0], inputShape[1], outH, outW])
  // The position of each output's maximum inside its plane (row · width + column).
  let argmax = [Int32](unsafeUninitializedCapacity: out.count) { indices, initialized in
    CPU.maxPoolForward(input.storage.buffer.base, g, into: out.buffer.base, indices: indices.baseAddress!)
    initialized = out.count
  }
  let tiles = g.kernelH == g.strideH && g.kernelW == g.strideW && g.padH == 0 && g.padW == 0
  return Tensor(out, op: "maxPool2d", parents: [input]) { gradient, graph in
    if let graph {
      // Linear where it is smooth: g scattered to each window's maximum.
      let planeSize = g.height * g.width, outputs = outH * outW
      let offsets = argmax.enumerated().map { n, index in n / outputs * planeSize + Int(index) }
      return graph.record { g, _, _ in [g.scatteringElements(at: offsets, shape: inputShape)] }
    }
    let gx = Storage<Scalar>(uninitializedShape: inputShape)
    argmax.withUnsafeBufferPointer { indices in
      CPU.maxPoolBackward(
        gradient.buffer.base, indices.baseAddress!, g, windowsTile: tiles, into: gx.buffer.base)
    }
    return [gx]
  }
}

/// The mean of each window, as PyTorch's `avg_pool2d` (floor rounding).
///
///     out[n, c, i, j] = Σ_window x / divisor
///
/// where the divisor is the window's size including the padding it overlaps (`countIncludePad`,
/// PyTorch's default) or only the pixels inside the image. ∂x = g / divisor for each pixel of each
/// window.
///
/// - Parameters:
///   - input: `[batch, channels, height, width]`.
///   - kernelSize: the window, `k` or `[kh, kw]`.
///   - stride: the step between windows; nil (the default) means the kernel size.
///   - padding: implicit zero padding on each side, at most half the kernel.
///   - countIncludePad: whether the divisor counts the padding a window overlaps (PyTorch's default).
///   - file: the caller's file (`#fileID`), named in error messages and by anomaly mode.
///   - line: the caller's line.
/// - Returns: `[batch, channels, ⌊(H + 2p − k) / s⌋ + 1, ⌊(W + 2p − k) / s⌋ + 1]`.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func avgPool2d<Scalar: TensorScalar>(
  _ input: Tensor<Scalar>, kernelSize: IntOrPair, stride: IntOrPair? = nil, padding: IntOrPair = 0,
  countIncludePad: Bool = true, file: StaticString = #fileID, line: UInt = #line
) -> Tensor<Scalar> {
  let g = PoolGeometry(
    "avgPool2d", shape: input.shape, kernel: kernelSize, stride: stride, padding: padding, file: file,
    line: line)
  let (outH, outW) = g.outputShape
  let windows = AverageWindows(
    height: g.height, width: g.width, outH: outH, outW: outW,
    rowWindow: { i in
      let start = i * g.strideH - g.padH
      let padded = Swift.min(start + g.kernelH, g.height + g.padH) - start
      return (Swift.max(start, 0)..<Swift.min(start + g.kernelH, g.height), padded)
    },
    columnWindow: { j in
      let start = j * g.strideW - g.padW
      let padded = Swift.min(start + g.kernelW, g.width + g.padW) - start
      return (Swift.max(start, 0)..<Swift.min(start + g.kernelW, g.width), padded)
    }, countIncludePad: countIncludePad)
  return windows.apply(input, op: "avgPool2d")
}

/// The mean over an adaptive grid of windows, as PyTorch's `adaptive_avg_pool2d`: output row i
/// averages input rows ⌊i·H/oH⌋ ..< ⌈(i+1)·H/oH⌉, and likewise for columns. Output 1×1 is the
/// global average; when oH divides H the windows are the H/oH-row blocks.
///
/// - Parameters:
///   - input: `[batch, channels, height, width]`.
///   - outputSize: `[oH, oW]`, or one size for both; each at least 1.
///   - file: the caller's file (`#fileID`), named in error messages and by anomaly mode.
///   - line: the caller's line.
/// - Returns: `[batch, channels, oH, oW]`.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func adaptiveAvgPool2d<Scalar: TensorScalar>(
  _ input: Tensor<Scalar>, outputSize: IntOrPair, file: StaticString = #fileID, line: UInt = #line
) -> Tensor<Scalar> {
  let shape = input.shape
  if shape.count != 4 {
    shapeFailure(
      "adaptiveAvgPool2d", "the input must be [batch, channels, height, width]", shapes: [shape], file: file,
      line: line)
  }
  if outputSize.height < 1 || outputSize.width < 1 || shape[2] < 1 || shape[3] < 1 {
    shapeFailure(
      "adaptiveAvgPool2d",
      "the output size (\(outputSize)) and the input's height and width must be at least 1",
      shapes: [shape], file: file, line: line)
  }
  let (height, width, outH, outW) = (shape[2], shape[3], outputSize.height, outputSize.width)
  let windows = AverageWindows(
    height: height, width: width, outH: outH, outW: outW,
    rowWindow: { i in
      let r = (i * height / outH)..<((i + 1) * height + outH - 1) / outH
      return (r, r.count)
    },
    columnWindow: { j in
      let c = (j * width / outW)..<((j + 1) * width + outW - 1) / outW
      return (c, c.count)
    }, countIncludePad: true)
  return windows.apply(input, op: "adaptiveAvgPool2d")
}

/// Windows of an average pooling: for each output row and column, the input range it averages and
/// the window's length counting padding.
struct AverageWindows {
  var rows: [Range<Int>], rowLengths: [Int]
  var columns: [Range<Int>], columnLengths: [Int]
  var height: Int, width: Int
  var countIncludePad: Bool

  init(
    height: Int, width: Int, outH: Int, outW: Int, rowWindow: (Int) -> (Range<Int>, Int),
    columnWindow: (Int) -> (Range<Int>, Int), countIncludePad: Bool
  ) {
    let r = (0..<outH).map(rowWindow), c = (0..<outW).map(columnWindow)
    (rows, rowLengths) = (r.map(\.0), r.map(\.1))
    (columns, columnLengths) = (c.map(\.0), c.map(\.1))
    (self.height, self.width) = (height, width)
    self.countIncludePad = countIncludePad
  }

  /// The divisor of output (i, j): the padded window's size, or the pixels inside the image.
  @inline(__always) func divisor(_ i: Int, _ j: Int) -> Int {
    countIncludePad ? rowLengths[i] * columnLengths[j] : rows[i].count * columns[j].count
  }

  /// The pooled tensor, with a pullback that spreads g / divisor over each window.
  @inline(__always)
  func apply<Scalar: TensorScalar>(_ input: Tensor<Scalar>, op: StaticString) -> Tensor<Scalar> {
    let shape = input.shape
    let (outH, outW) = (rows.count, columns.count)
    let planes = shape[0] * shape[1]
    // The divisor of each output position, shared by every plane (PyTorch divides, so do we).
    let divisors = (0..<(outH * outW)).map { Scalar(Swift.max(divisor($0 / outW, $0 % outW), 1)) }
    let out = Storage<Scalar>(uninitializedShape: [shape[0], shape[1], outH, outW])
    let (rows, columns, width, height) = (rows, columns, width, height)
    divisors.withUnsafeBufferPointer { divisors in
      CPU.averagePoolForward(
        input.storage.buffer.base, rows: rows, columns: columns, width: width, height: height,
        divisors: divisors.baseAddress!, into: out.buffer.base, planes: planes)
    }
    return Tensor(out, op: op, parents: [input]) { gradient, graph in
      if let graph {
        // Linear: each plane times the constant [H·W, oH·oW] matrix of window weights 1/divisor.
        var weights = [Scalar](repeating: 0, count: height * width * outH * outW)
        for i in 0..<outH {
          for j in 0..<outW {
            for r in rows[i] {
              for c in columns[j] { weights[(r * width + c) * outH * outW + i * outW + j] = 1 / divisors[i * outW + j] }
            }
          }
        }
        let matrix = Tensor(Storage(weights, shape: [height * width, outH * outW]))
        return graph.recordThrough { x in
          x[0].reshaped([planes, height * width]).matmul(matrix).reshaped([shape[0], shape[1], outH, outW])
        }
      }
      let gx = Storage<Scalar>(uninitializedShape: shape)
      divisors.withUnsafeBufferPointer { divisors in
        CPU.averagePoolBackward(
          gradient.buffer.base, rows: rows, columns: columns, width: width, height: height,
          divisors: divisors.baseAddress!, into: gx.buffer.base, planes: planes)
      }
      return [gx]
    }
  }
}
