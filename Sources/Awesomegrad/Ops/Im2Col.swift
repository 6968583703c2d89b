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

  /// The output columns `ow` whose input column `ow·sw − pw + kj·dw` lies inside [0, width),
  /// as a half-open range.
  @inline(__always)
  func validColumns(kj: Int) -> Range<Int> {
    let shift = kj * dilationW - padW  // iw = ow·sw + shift
    let start = shift >= 0 ? 0 : (-shift + strideW - 1) / strideW
    let end = Swift.min(outW, width - shift <= 0 ? 0 : (width - shift - 1) / strideW + 1)
    return start..<Swift.max(start, end)
  }
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
      for kj in 0..<g.kernelW {
        let valid = g.validColumns(kj: kj)
        let shift = kj * g.dilationW - g.padW
        let row = columns + ((c * g.kernelH + ki) * g.kernelW + kj) * ld
        for oh in rows {
          let out = row + (oh - rows.lowerBound) * oW
          let ih = oh * g.strideH - g.padH + ki * g.dilationH
          if ih < 0 || ih >= height || valid.isEmpty {
            out.update(repeating: 0, count: oW)
            continue
          }
          if valid.lowerBound > 0 { out.update(repeating: 0, count: valid.lowerBound) }
          if valid.upperBound < oW {
            (out + valid.upperBound).update(repeating: 0, count: oW - valid.upperBound)
          }
          let source = plane + ih * width + shift
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

/// The adjoint of ``unfold(_:_:rows:into:ld:)``: adds every unfolded entry of output rows `rows`
/// back to the pixel of `image` it was read from (entries read from padding are dropped).
@inline(__always)
func foldAdding<Scalar: TensorScalar>(
  _ columns: UnsafePointer<Scalar>, ld: Int, _ g: ConvGeometry, rows: Range<Int>,
  into image: UnsafeMutablePointer<Scalar>
) {
  let (oW, width, height) = (g.outW, g.width, g.height)
  for c in 0..<g.channels {
    let plane = image + c * height * width
    for ki in 0..<g.kernelH {
      for kj in 0..<g.kernelW {
        let valid = g.validColumns(kj: kj)
        if valid.isEmpty { continue }
        let shift = kj * g.dilationW - g.padW
        let row = columns + ((c * g.kernelH + ki) * g.kernelW + kj) * ld
        for oh in rows {
          let ih = oh * g.strideH - g.padH + ki * g.dilationH
          if ih < 0 || ih >= height { continue }
          let entries = row + (oh - rows.lowerBound) * oW
          let target = plane + ih * width + shift
          if g.strideW == 1 {
            for ow in valid { target[ow] += entries[ow] }
          } else {
            let s = g.strideW
            for ow in valid { target[ow * s] += entries[ow] }
          }
        }
      }
    }
  }
}
