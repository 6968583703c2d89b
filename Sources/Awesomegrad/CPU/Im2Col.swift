/// The unfold (im2col) and fold (col2im) kernels of convolution, and the geometry they share.
///
/// For one image of `channels × height × width` and a `kernelH × kernelW` window, the unfolded
/// matrix has one row per (channel, ki, kj) and one column per output position (oh, ow):
///
///     col[(c·kh + ki)·kw + kj, oh·oW + ow] = x[c, oh·sh − ph + ki·dh, ow·sw − pw + kj·dw]   (0 outside)
///
/// so that a convolution is the product `W[out, c·kh·kw] · col`. Fold is the adjoint: it adds each
/// column entry back to the pixel it was read from. Both are pointer loops over whole rows; a
/// stride-1 row is one contiguous copy with zeroed edges.

/// The sizes of a 2-D convolution (or pooling) window over one group of channels.
struct ConvGeometry: Equatable {
  /// Input channels per group, and the spatial size of the input.
  var channels: Int, height: Int, width: Int
  var kernelH: Int, kernelW: Int
  var strideH: Int, strideW: Int
  var padH: Int, padW: Int
  var dilationH: Int, dilationW: Int

  /// The output height: ⌊(H + 2·ph − dh·(kh − 1) − 1) / sh⌋ + 1 (may be ≤ 0 for a window larger
  /// than the padded input; callers check).
  var outH: Int { floorDivide(height + 2 * padH - dilationH * (kernelH - 1) - 1, strideH) + 1 }
  /// The output width, as ``outH``.
  var outW: Int { floorDivide(width + 2 * padW - dilationW * (kernelW - 1) - 1, strideW) + 1 }

  /// Rows of the unfolded matrix: channels · kh · kw.
  var columnRows: Int { channels * kernelH * kernelW }
  /// Output positions of one image: oH · oW.
  var positions: Int { outH * outW }

  /// Whether the unfolded matrix is the image itself (1×1 kernel, stride 1, no padding), so a
  /// convolution is a plain gemm with no unfold.
  var isPointwise: Bool {
    kernelH == 1 && kernelW == 1 && strideH == 1 && strideW == 1 && padH == 0 && padW == 0
  }

  /// Whether output rows map to image rows one to one and output columns to image columns (stride
  /// 1, output width = image width), so that a block of output rows reads one contiguous run of the
  /// image per kernel tap.
  var isRowContiguous: Bool { strideH == 1 && strideW == 1 && outW == width }

  /// The output rows `oh` whose input row `oh·sh − ph + ki·dh` lies inside [0, height), a range
  /// inside 0..<oH (empty when the tap reads only padding).
  @inline(__always)
  func validRows(ki: Int) -> Range<Int> {
    validOutputs(shift: ki * dilationH - padH, stride: strideH, input: height, output: outH)
  }

  /// The output columns `ow` whose input column `ow·sw − pw + kj·dw` lies inside [0, width), a
  /// range inside 0..<oW (empty when the tap reads only padding).
  @inline(__always)
  func validColumns(kj: Int) -> Range<Int> {
    validOutputs(shift: kj * dilationW - padW, stride: strideW, input: width, output: outW)
  }
}

/// The outputs o in 0..<`output` whose input index o·stride + shift lies in 0..<`input`:
///
///     first = ⌈−shift / stride⌉ (0 if shift ≥ 0),  end = ⌈(input − shift) / stride⌉,
///
/// both clamped to 0...output. When the padding is wider than the input (a tap whose every read
/// falls left of the image, as conv1d on width 1 with kernel 5 and padding 2), `first` lies past
/// the last output: the clamp makes the range empty at `output` instead of ending before it starts.
@inline(__always)
func validOutputs(shift: Int, stride: Int, input: Int, output: Int) -> Range<Int> {
  let first = Swift.min(output, shift >= 0 ? 0 : (-shift + stride - 1) / stride)
  let end = Swift.min(output, input - shift <= 0 ? 0 : (input - shift - 1) / stride + 1)
  return first..<Swift.max(first, end)
}

/// ⌊a / b⌋ for b > 0, also for negative a.
@inline(__always)
func floorDivide(_ a: Int, _ b: Int) -> Int {
  a >= 0 ? a / b : -((-a + b - 1) / b)
}

/// Writes the unfolded rows of output rows `rows` (a range of oh) of one image.
///
/// - `image`: `[channels, height, width]`.
/// - `columns`: row r of the unfolded matrix starts at `columns + r·ld`; output position
///   (oh, ow) is at column `(oh − rows.lowerBound)·oW + ow`. Every entry of those columns is written.
@inline(__always)
func unfold<Scalar: TensorScalar>(
  _ image: UnsafePointer<Scalar>, _ g: ConvGeometry, rows: Range<Int>,
  into columns: UnsafeMutablePointer<Scalar>, ld: Int
) {
  let (oW, width, height) = (g.outW, g.width, g.height)
  for c in 0..<g.channels {
    let plane = image + c * height * width
    for ki in 0..<g.kernelH {
      let inside = g.validRows(ki: ki).clamped(to: rows)
      for kj in 0..<g.kernelW {
        let valid = g.validColumns(kj: kj)
        let shift = kj * g.dilationW - g.padW
        let row = columns + ((c * g.kernelH + ki) * g.kernelW + kj) * ld
        // Output rows that read only padding.
        let above = (inside.isEmpty ? rows.upperBound : inside.lowerBound) - rows.lowerBound
        row.update(repeating: 0, count: above * oW)
        if inside.isEmpty { continue }
        let below = rows.upperBound - inside.upperBound
        (row + (inside.upperBound - rows.lowerBound) * oW).update(repeating: 0, count: below * oW)
        let first = row + (inside.lowerBound - rows.lowerBound) * oW
        if g.isRowContiguous {
          // Stride 1 and oW = width: the block is one run of the image shifted by `shift` (and
          // whole rows); copy it at once, then clear the columns that fell outside the image.
          let start = (inside.lowerBound - g.padH + ki * g.dilationH) * width + shift
          let count = inside.count * oW
          let lo = Swift.max(0, -start), hi = Swift.min(count, height * width - start)
          if hi > lo { (first + lo).update(from: plane + start + lo, count: hi - lo) }
          clearInvalidColumns(first, rows: inside.count, oW: oW, valid: valid)
          continue
        }
        for oh in inside {
          let out = first + (oh - inside.lowerBound) * oW
          if valid.isEmpty {
            out.update(repeating: 0, count: oW)
            continue
          }
          for ow in 0..<valid.lowerBound { out[ow] = 0 }
          for ow in valid.upperBound..<oW { out[ow] = 0 }
          let source = plane + (oh * g.strideH - g.padH + ki * g.dilationH) * width + shift
          if g.strideW == 1 {
            (out + valid.lowerBound).update(from: source + valid.lowerBound, count: valid.count)
          } else {
            let s = g.strideW
            for ow in valid { out[ow] = source[ow * s] }
          }
        }
      }
    }
  }
}

/// Sets the entries of `rows` rows of length `oW` outside the `valid` columns to 0.
@inline(__always)
func clearInvalidColumns<Scalar: TensorScalar>(
  _ first: UnsafeMutablePointer<Scalar>, rows: Int, oW: Int, valid: Range<Int>
) {
  if valid.lowerBound == 0 && valid.upperBound == oW { return }
  // `valid` lies inside 0..<oW (``validOutputs(shift:stride:input:output:)``).
  for r in 0..<rows {
    let out = first + r * oW
    for ow in 0..<valid.lowerBound { out[ow] = 0 }
    for ow in valid.upperBound..<oW { out[ow] = 0 }
  }
}

/// The adjoint of ``unfold(_:_:rows:into:ld:)``: adds every unfolded entry of output rows `rows`
/// back to the pixel of `image` it was read from (entries read from padding are dropped). It may
/// overwrite the entries that correspond to padding with 0.
@inline(__always)
func foldAdding<Scalar: TensorScalar>(
  _ columns: UnsafeMutablePointer<Scalar>, ld: Int, _ g: ConvGeometry, rows: Range<Int>,
  into image: UnsafeMutablePointer<Scalar>
) {
  let (oW, width, height) = (g.outW, g.width, g.height)
  for c in 0..<g.channels {
    let plane = image + c * height * width
    for ki in 0..<g.kernelH {
      let inside = g.validRows(ki: ki).clamped(to: rows)
      if inside.isEmpty { continue }
      for kj in 0..<g.kernelW {
        let valid = g.validColumns(kj: kj)
        if valid.isEmpty { continue }
        let shift = kj * g.dilationW - g.padW
        let first =
          columns + ((c * g.kernelH + ki) * g.kernelW + kj) * ld + (inside.lowerBound - rows.lowerBound) * oW
        if g.isRowContiguous {
          // One run, as in unfold: clear the entries read from padding so that adding the whole
          // run puts nothing on the neighbouring row's edge pixels.
          clearInvalidColumns(first, rows: inside.count, oW: oW, valid: valid)
          let start = (inside.lowerBound - g.padH + ki * g.dilationH) * width + shift
          let count = inside.count * oW
          let lo = Swift.max(0, -start), hi = Swift.min(count, height * width - start)
          if hi > lo { addRun(first + lo, into: plane + start + lo, count: hi - lo) }
          continue
        }
        for oh in inside {
          let entries = first + (oh - inside.lowerBound) * oW
          let target = plane + (oh * g.strideH - g.padH + ki * g.dilationH) * width + shift
          if g.strideW == 1 {
            addRun(entries + valid.lowerBound, into: target + valid.lowerBound, count: valid.count)
          } else {
            let s = g.strideW
            for ow in valid { target[ow * s] += entries[ow] }
          }
        }
      }
    }
  }
}

/// target[i] += source[i] for i < count.
@inline(__always)
func addRun<Scalar: TensorScalar>(
  _ source: UnsafePointer<Scalar>, into target: UnsafeMutablePointer<Scalar>, count: Int
) {
  for i in 0..<count { target[i] += source[i] }
}
