/// Pooling kernels over NCHW planes: max pooling (with the position of each maximum) and average
/// pooling, forward and backward. Every (sample, channel) plane is pooled on its own, so the planes
/// are split over the pool; each plane's result is the same whatever the split.

extension CPU {
  /// The window comparisons below which a pooling loop stays on the calling thread.
  static let poolingGrain = 16_384

  /// Max pooling of every plane (see ``maxPoolForwardPlanes(_:_:into:indices:planes:)``).
  @inline(__always)
  static func maxPoolForward<Scalar: TensorScalar>(
    _ input: UnsafePointer<Scalar>, _ g: PoolGeometry, into output: UnsafeMutablePointer<Scalar>,
    indices: UnsafeMutablePointer<Int32>
  ) {
    let work = Swift.max(1, g.outH * g.outW * g.kernelH * g.kernelW)
    parallelFor(0..<g.planes, grain: Swift.max(1, poolingGrain / work)) { planes in
      maxPoolForwardPlanes(input, g, into: output, indices: indices, planes: planes)
    }
  }

  /// ∂x of max pooling for every plane (see ``maxPoolBackwardPlanes(_:_:_:windowsTile:into:planes:)``).
  @inline(__always)
  static func maxPoolBackward<Scalar: TensorScalar>(
    _ gradient: UnsafePointer<Scalar>, _ indices: UnsafePointer<Int32>, _ g: PoolGeometry, windowsTile: Bool,
    into gx: UnsafeMutablePointer<Scalar>
  ) {
    parallelFor(0..<g.planes, grain: Swift.max(1, elementwiseGrain / Swift.max(1, g.height * g.width))) { planes in
      maxPoolBackwardPlanes(gradient, indices, g, windowsTile: windowsTile, into: gx, planes: planes)
    }
  }

  /// The mean of each window of every plane: output (i, j) averages input rows `rows[i]` and
  /// columns `columns[j]`, divided by `divisors[i·oW + j]`.
  @inline(__always)
  static func averagePoolForward<Scalar: TensorScalar>(
    _ input: UnsafePointer<Scalar>, rows: [Range<Int>], columns: [Range<Int>], width: Int, height: Int,
    divisors: UnsafePointer<Scalar>, into output: UnsafeMutablePointer<Scalar>, planes: Int
  ) {
    let (outH, outW) = (rows.count, columns.count)
    let planeSize = height * width, outPlane = outH * outW
    parallelFor(0..<planes, grain: Swift.max(1, elementwiseGrain / Swift.max(1, planeSize))) { piece in
      for plane in piece {
        let x = input + plane * planeSize, y = output + plane * outPlane
        for i in 0..<outH {
          for j in 0..<outW {
            var sum: Scalar = 0
            for r in rows[i] {
              let row = x + r * width
              for c in columns[j] { sum += row[c] }
            }
            y[i * outW + j] = sum / divisors[i * outW + j]
          }
        }
      }
    }
  }

  /// ∂x of average pooling: each output's gradient divided by its divisor and added to every pixel
  /// of its window (every element of `gx` is written).
  @inline(__always)
  static func averagePoolBackward<Scalar: TensorScalar>(
    _ gradient: UnsafePointer<Scalar>, rows: [Range<Int>], columns: [Range<Int>], width: Int, height: Int,
    divisors: UnsafePointer<Scalar>, into gx: UnsafeMutablePointer<Scalar>, planes: Int
  ) {
    let (outH, outW) = (rows.count, columns.count)
    let planeSize = height * width, outPlane = outH * outW
    parallelFor(0..<planes, grain: Swift.max(1, elementwiseGrain / Swift.max(1, planeSize))) { piece in
      for plane in piece {
        let target = gx + plane * planeSize, upstream = gradient + plane * outPlane
        target.initialize(repeating: 0, count: planeSize)
        for i in 0..<outH {
          for j in 0..<outW {
            let share = upstream[i * outW + j] / divisors[i * outW + j]
            for r in rows[i] {
              let row = target + r * width
              for c in columns[j] { row[c] += share }
            }
          }
        }
      }
    }
  }
}

/// Writes each window's maximum to `output` and its position in the plane to `indices`, with
/// PyTorch's rule: a value replaces the maximum when it is larger or NaN, starting from −∞ at the
/// window's first pixel.
@inline(__always)
func maxPoolForwardPlanes<Scalar: TensorScalar>(
  _ input: UnsafePointer<Scalar>, _ g: PoolGeometry, into output: UnsafeMutablePointer<Scalar>,
  indices: UnsafeMutablePointer<Int32>, planes: Range<Int>
) {
  let (outH, outW, width) = (g.outH, g.outW, g.width)
  let planeSize = g.height * width, outPlane = outH * outW
  if g.kernelH == 2 && g.kernelW == 2 && g.strideH == 2 && g.strideW == 2 && g.padH == 0 && g.padW == 0 {
    // The common 2×2 / 2 case. Which candidate wins depends on the data, so as branches the
    // mispredictions would cost more than the comparisons: without a NaN in the window (a branch
    // that is almost always taken), each step is a compare feeding a float max and a cmov.
    for plane in planes {
      let x = input + plane * planeSize
      let y = output + plane * outPlane, yi = indices + plane * outPlane
      for i in 0..<outH {
        let top = 2 &* i &* width, bottom = top &+ width
        let row = y + i &* outW, rowIndices = yi + i &* outW
        for j in 0..<outW {
          let c = 2 &* j
          let a = x[top &+ c], b = x[top &+ c &+ 1], d = x[bottom &+ c], e = x[bottom &+ c &+ 1]
          var maximum = a, best = top &+ c
          if a.isNaN || b.isNaN || d.isNaN || e.isNaN {
            // PyTorch's rule, branch by branch: the last NaN wins.
            if b > maximum || b.isNaN { (maximum, best) = (b, top &+ c &+ 1) }
            if d > maximum || d.isNaN { (maximum, best) = (d, bottom &+ c) }
            if e > maximum || e.isNaN { (maximum, best) = (e, bottom &+ c &+ 1) }
          } else {
            best = b > maximum ? top &+ c &+ 1 : best
            maximum = b > maximum ? b : maximum
            best = d > maximum ? bottom &+ c : best
            maximum = d > maximum ? d : maximum
            best = e > maximum ? bottom &+ c &+ 1 : best
            maximum = e > maximum ? e : maximum
          }
          row[j] = maximum
          rowIndices[j] = Int32(truncatingIfNeeded: best)
        }
      }
    }
    return
  }
  // Each window clipped to the image: rows r0..<r1, columns c0..<c1.
  for plane in planes {
    let x = input + plane * planeSize
    let y = output + plane * outPlane, yi = indices + plane * outPlane
    for i in 0..<outH {
      let r0 = Swift.max(i * g.strideH - g.padH, 0),
        r1 = Swift.min(i * g.strideH - g.padH + g.kernelH, g.height)
      for j in 0..<outW {
        let c0 = Swift.max(j * g.strideW - g.padW, 0)
        let c1 = Swift.min(j * g.strideW - g.padW + g.kernelW, width)
        var best = r0 * width + c0
        var maximum = -Scalar.infinity
        var r = r0
        while r < r1 {
          var c = c0
          while c < c1 {
            let v = x[r * width + c]
            if v > maximum || v.isNaN { (maximum, best) = (v, r * width + c) }
            c += 1
          }
          r += 1
        }
        y[i * outW + j] = maximum
        yi[i * outW + j] = Int32(truncatingIfNeeded: best)
      }
    }
  }
}

/// ∂x of max pooling: each output's gradient added at its saved position. When the windows tile
/// the image (kernel = stride, no padding) every pixel is in at most one window, so the gradient is
/// written window by window without clearing the whole buffer first.
@inline(__always)
func maxPoolBackwardPlanes<Scalar: TensorScalar>(
  _ gradient: UnsafePointer<Scalar>, _ indices: UnsafePointer<Int32>, _ g: PoolGeometry, windowsTile: Bool,
  into gx: UnsafeMutablePointer<Scalar>, planes: Range<Int>
) {
  let (outH, outW, width) = (g.outH, g.outW, g.width)
  let planeSize = g.height * width, outPlane = outH * outW
  guard windowsTile else {
    (gx + planes.lowerBound * planeSize).initialize(repeating: 0, count: planes.count * planeSize)
    for plane in planes {
      let target = gx + plane * planeSize
      let upstream = gradient + plane * outPlane, positions = indices + plane * outPlane
      for o in 0..<outPlane { target[Int(positions[o])] += upstream[o] }
    }
    return
  }
  let kh = g.kernelH
  for plane in planes {
    let target = gx + plane * planeSize
    let upstream = gradient + plane * outPlane, positions = indices + plane * outPlane
    // Rows below the last window get no gradient; each band of window rows is cleared (with its
    // columns right of the last window) before its windows' gradients are written.
    (target + outH * kh * width).update(repeating: 0, count: (g.height - outH * kh) * width)
    for i in 0..<outH {
      (target + i * kh * width).update(repeating: 0, count: kh * width)
      for j in 0..<outW { target[Int(positions[i &* outW &+ j])] = upstream[i &* outW &+ j] }
    }
  }
}

