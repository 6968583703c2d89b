/// Layer and batch normalisation kernels.
///
/// Layer norm works row by row: each row of `width` values is normalised on its own, so rows are
/// split over threads freely; its weight and bias gradients are sums over rows, cut into shape-fixed
/// chunks of rows whose partial sums are added in chunk order. Batch norm reads x as
/// `[batch, channels, inner]`; its per-channel sums (in Double) run over shape-fixed chunks of the
/// batch, each reading its rows contiguously (for `[N, C]` a row is C channels side by side), and
/// the partials are added in chunk order. Every result is the same bits at any thread count.
extension CPU {
  // MARK: Layer norm

  /// For each row of x: μ, r = 1/√(σ² + ε) (biased σ²), x̂ = (x − μ)·r and y = x̂ ⊙ w + b (w, b
  /// optional), writing x̂ and r for the pullback.
  @inline(__always)
  static func layerNormForward<T: TensorScalar>(
    _ x: UnsafePointer<T>, weight w: UnsafePointer<T>?, bias b: UnsafePointer<T>?, eps: T,
    normalized xhat: UnsafeMutablePointer<T>, inverseDeviations r: UnsafeMutablePointer<T>,
    into y: UnsafeMutablePointer<T>, rows: Int, width: Int
  ) {
    let n = T(width)
    parallelFor(0..<rows, grain: Swift.max(1, elementwiseGrain / Swift.max(width, 1))) { piece in
      for row in piece {
        let xr = x + row * width, hr = xhat + row * width, yr = y + row * width
        let mean = sumOfRun(xr, count: width) / n
        for j in 0..<width { hr[j] = xr[j] - mean }
        let inverse = 1 / (dotOfRuns(hr, hr, count: width) / n + eps).squareRoot()
        r[row] = inverse
        for j in 0..<width { hr[j] *= inverse }
        switch (w, b) {
        case let (w?, b?): for j in 0..<width { yr[j] = hr[j] * w[j] + b[j] }
        case let (w?, nil): for j in 0..<width { yr[j] = hr[j] * w[j] }
        case let (nil, b?): for j in 0..<width { yr[j] = hr[j] + b[j] }
        case (nil, nil): yr.update(from: hr, count: width)
        }
      }
    }
  }

  /// ∂x of layer norm for each row: with ĝ = g ⊙ w, r·(ĝ − mean(ĝ) − x̂·mean(ĝ ⊙ x̂)).
  @inline(__always)
  static func layerNormInputGradient<T: TensorScalar>(
    _ g: UnsafePointer<T>, normalized xhat: UnsafePointer<T>, inverseDeviations r: UnsafePointer<T>,
    weight w: UnsafePointer<T>?, into gx: UnsafeMutablePointer<T>, rows: Int, width: Int
  ) {
    let n = T(width)
    parallelFor(0..<rows, grain: Swift.max(1, elementwiseGrain / Swift.max(width, 1))) { piece in
      for row in piece {
        let gr = g + row * width, hr = xhat + row * width, dr = gx + row * width
        // dr holds ĝ first, then the input gradient.
        if let w {
          for j in 0..<width { dr[j] = gr[j] * w[j] }
        } else {
          dr.update(from: gr, count: width)
        }
        let meanG = sumOfRun(dr, count: width) / n, meanGX = dotOfRuns(dr, hr, count: width) / n
        let inverse = r[row]
        for j in 0..<width { dr[j] = inverse * (dr[j] - meanG - hr[j] * meanGX) }
      }
    }
  }

  /// ∂w = Σ_rows g ⊙ x̂ and ∂b = Σ_rows g (each only when its pointer is given), summed in
  /// shape-fixed chunks of rows (see ``columnSums(rows:width:_:)``).
  @inline(__always)
  static func layerNormParameterGradients<T: TensorScalar>(
    _ g: UnsafePointer<T>, normalized xhat: UnsafePointer<T>, rows: Int, width: Int,
    weightGradient gw: UnsafeMutablePointer<T>?, biasGradient gb: UnsafeMutablePointer<T>?
  ) {
    if let gw {
      columnSums(rows: rows, width: width, into: gw) { range, partial in
        for row in range {
          let gr = g + row * width, hr = xhat + row * width
          for j in 0..<width { partial[j] += gr[j] * hr[j] }
        }
      }
    }
    if let gb {
      columnSums(rows: rows, width: width, into: gb) { range, partial in
        for row in range {
          let gr = g + row * width
          for j in 0..<width { partial[j] += gr[j] }
        }
      }
    }
  }

  /// Sums over `rows` rows of `width` columns into `target`: `accumulate(range, partial)` adds the
  /// rows `range` into a zeroed partial; the rows are cut into at most ``maximumReductionChunks``
  /// chunks fixed by the sizes, run on the pool, and the partials are added in chunk order.
  @inline(__always)
  static func columnSums<T: TensorScalar>(
    rows: Int, width: Int, into target: UnsafeMutablePointer<T>,
    _ accumulate: (Range<Int>, UnsafeMutablePointer<T>) -> Void
  ) {
    target.update(repeating: 0, count: width)
    if rows == 0 || width == 0 { return }
    let chunks = Swift.max(1, Swift.min(maximumReductionChunks, rows * width / reductionBlock, rows))
    sumInRowChunks(
      rows: rows, rowsPerChunk: (rows + chunks - 1) / chunks, width: width, into: target, accumulate)
  }

  /// Adds `accumulate`'s sums over rows `0..<rows` into the zeroed `target` of `width` values, in
  /// chunks of `rowsPerChunk` rows (a size fixed by the problem, never by the thread count): each
  /// chunk runs on the pool into its own zeroed partial, and the partials are added in chunk order.
  /// One chunk accumulates into `target` directly.
  @inline(__always)
  static func sumInRowChunks<T: AdditiveArithmetic>(
    rows: Int, rowsPerChunk: Int, width: Int, into target: UnsafeMutablePointer<T>,
    _ accumulate: (Range<Int>, UnsafeMutablePointer<T>) -> Void
  ) {
    let chunkCount = (rows + rowsPerChunk - 1) / rowsPerChunk
    if chunkCount == 1 {
      accumulate(0..<rows, target)
      return
    }
    withUnsafeTemporaryAllocation(of: T.self, capacity: chunkCount * width) { partials in
      let p = partials.baseAddress!
      p.initialize(repeating: .zero, count: chunkCount * width)
      parallelChunks(chunkCount) { c in
        accumulate((c * rowsPerChunk)..<Swift.min(rows, (c + 1) * rowsPerChunk), p + c * width)
      }
      for c in 0..<chunkCount {
        let partial = p + c * width
        for j in 0..<width { target[j] += partial[j] }
      }
    }
  }

  // MARK: Batch norm

  /// Per-channel Double sums over x `[batch, channels, inner]`: `accumulate(rows, partial)` adds the
  /// batch rows `rows` into a zeroed partial of `sums · channels` Doubles; the batch is cut into
  /// shape-fixed chunks run on the pool, and the partials are added in chunk order into `totals`.
  @inline(__always)
  static func batchChannelSums(
    batch: Int, channels: Int, inner: Int, sums: Int, into totals: UnsafeMutablePointer<Double>,
    _ accumulate: (Range<Int>, UnsafeMutablePointer<Double>) -> Void
  ) {
    let width = sums * channels
    totals.update(repeating: 0, count: width)
    if batch == 0 { return }
    let rowsPerChunk = Swift.max(1, reductionBlock / Swift.max(channels * inner, 1))
    sumInRowChunks(rows: batch, rowsPerChunk: rowsPerChunk, width: width, into: totals, accumulate)
  }

  /// Batch statistics per channel: the mean, the unbiased variance Σ(x − μ)²/(m − 1) and
  /// 1/√(σ² + ε) with the biased σ² = Σ(x − μ)²/m, m = batch · inner (two passes, in Double).
  @inline(__always)
  static func batchNormStatistics<T: TensorScalar>(
    _ x: UnsafePointer<T>, batch: Int, channels: Int, inner: Int, eps: Double,
    mean: UnsafeMutablePointer<T>, unbiasedVariance: UnsafeMutablePointer<T>,
    inverseStd: UnsafeMutablePointer<T>
  ) {
    let m = Double(batch * inner)
    withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * channels) { scratch in
      let sums = scratch.baseAddress!, mu = sums + channels
      batchChannelSums(batch: batch, channels: channels, inner: inner, sums: 1, into: sums) { rows, partial in
        for n in rows {
          let row = x + n * channels * inner
          if inner == 1 {
            for c in 0..<channels { partial[c] += Double(row[c]) }
          } else {
            for c in 0..<channels { partial[c] += doubleSumOfRun(row + c * inner, count: inner, shift: 0) }
          }
        }
      }
      for c in 0..<channels { mu[c] = sums[c] / m }
      batchChannelSums(batch: batch, channels: channels, inner: inner, sums: 1, into: sums) { rows, partial in
        for n in rows {
          let row = x + n * channels * inner
          if inner == 1 {
            for c in 0..<channels {
              let d = Double(row[c]) - mu[c]
              partial[c] += d * d
            }
          } else {
            for c in 0..<channels {
              partial[c] += doubleSumOfSquaredRun(row + c * inner, count: inner, shift: mu[c])
            }
          }
        }
      }
      for c in 0..<channels {
        mean[c] = T(mu[c])
        unbiasedVariance[c] = T(sums[c] / (m - 1))
        inverseStd[c] = T(1 / (sums[c] / m + eps).squareRoot())
      }
    }
  }

  /// Per channel: Σg (∂β) and Σg·x̂ (∂γ), with x̂ = (x − μ)·s, in Double.
  @inline(__always)
  static func batchNormGradientSums<T: TensorScalar>(
    _ g: UnsafePointer<T>, _ x: UnsafePointer<T>, mean: UnsafePointer<T>, inverseStd: UnsafePointer<T>,
    batch: Int, channels: Int, inner: Int, sums: UnsafeMutablePointer<T>, scaledSums: UnsafeMutablePointer<T>
  ) {
    withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * channels) { scratch in
      let totals = scratch.baseAddress!
      batchChannelSums(batch: batch, channels: channels, inner: inner, sums: 2, into: totals) { rows, partial in
        for n in rows {
          let offset = n * channels * inner
          let gr = g + offset, xr = x + offset
          if inner == 1 {
            for c in 0..<channels {
              let gv = Double(gr[c])
              partial[c] += gv
              partial[channels + c] += gv * Double((xr[c] - mean[c]) * inverseStd[c])
            }
          } else {
            for c in 0..<channels {
              let (sum, dot) = doubleGradientSums(
                gr + c * inner, xr + c * inner, count: inner, mean: mean[c], inverseStd: inverseStd[c])
              partial[c] += sum
              partial[channels + c] += dot
            }
          }
        }
      }
      for c in 0..<channels {
        sums[c] = T(totals[c])
        scaledSums[c] = T(totals[channels + c])
      }
    }
  }

  /// y = (x − μ[c])·scale[c] + shift[c] for every element of channel c of `[batch, channels, inner]`.
  @inline(__always)
  static func channelNormalize<T: TensorScalar>(
    _ x: UnsafePointer<T>, mean: UnsafePointer<T>, scale: UnsafePointer<T>, shift: UnsafePointer<T>,
    into y: UnsafeMutablePointer<T>, batch: Int, channels: Int, inner: Int
  ) {
    forEachChannelRun(batch: batch, channels: channels, inner: inner) { offset, count, c in
      let mu = mean[c], a = scale[c], b = shift[c]
      for i in offset..<(offset + count) { y[i] = (x[i] - mu) * a + b }
    }
  }

  /// ∂x of training-mode batch norm per channel c: scale[c]·(g − meanG[c] − x̂·meanGX[c]) with
  /// x̂ = (x − μ[c])·s[c] (scale = γ·s).
  @inline(__always)
  static func batchNormInputGradient<T: TensorScalar>(
    _ g: UnsafePointer<T>, _ x: UnsafePointer<T>, mean: UnsafePointer<T>, inverseStd: UnsafePointer<T>,
    scale: UnsafePointer<T>, meanG: UnsafePointer<T>, meanGX: UnsafePointer<T>,
    into gx: UnsafeMutablePointer<T>, batch: Int, channels: Int, inner: Int
  ) {
    forEachChannelRun(batch: batch, channels: channels, inner: inner) { offset, count, c in
      let mu = mean[c], s = inverseStd[c], a = scale[c], mg = meanG[c], mgx = meanGX[c]
      for i in offset..<(offset + count) { gx[i] = a * (g[i] - mg - (x[i] - mu) * s * mgx) }
    }
  }

  /// gx = g·scale[c] for every element of channel c (evaluation-mode batch norm's ∂x).
  @inline(__always)
  static func channelScale<T: TensorScalar>(
    _ g: UnsafePointer<T>, scale: UnsafePointer<T>, into gx: UnsafeMutablePointer<T>,
    batch: Int, channels: Int, inner: Int
  ) {
    forEachChannelRun(batch: batch, channels: channels, inner: inner) { offset, count, c in
      let a = scale[c]
      for i in offset..<(offset + count) { gx[i] = a * g[i] }
    }
  }

  /// Calls `body(offset, count, channel)` for every run of one channel's values in
  /// `[batch, channels, inner]`, split over the pool by planes (or, for inner = 1, by elements).
  @inline(__always)
  static func forEachChannelRun(
    batch: Int, channels: Int, inner: Int, _ body: (Int, Int, Int) -> Void
  ) {
    let planes = batch * channels
    parallelFor(0..<planes, grain: Swift.max(1, elementwiseGrain / Swift.max(inner, 1))) { piece in
      var c = piece.lowerBound % Swift.max(channels, 1)
      if inner == 1 {
        // Consecutive planes are consecutive elements: walk whole rows of channels.
        var p = piece.lowerBound
        while p < piece.upperBound {
          let run = Swift.min(channels - c, piece.upperBound - p)
          for k in 0..<run { body(p + k, 1, c + k) }
          p += run
          c = 0
        }
        return
      }
      for p in piece {
        body(p * inner, inner, c)
        c += 1
        if c == channels { c = 0 }
      }
    }
  }
}

/// Σ (p[i] − shift) over `count` values, in Double, in 8 lanes.
@inline(__always)
func doubleSumOfRun<Scalar: TensorScalar>(_ p: UnsafePointer<Scalar>, count: Int, shift: Double) -> Double {
  var lanes = SIMD8<Double>.zero
  var i = 0
  while i + 8 <= count {
    for k in 0..<8 { lanes[k] += Double(p[i + k]) - shift }
    i += 8
  }
  var total = lanes.sum()
  while i < count {
    total += Double(p[i]) - shift
    i += 1
  }
  return total
}

/// Σ (p[i] − shift)² over `count` values, in Double, in 8 lanes.
@inline(__always)
func doubleSumOfSquaredRun<Scalar: TensorScalar>(_ p: UnsafePointer<Scalar>, count: Int, shift: Double) -> Double
{
  var lanes = SIMD8<Double>.zero
  var i = 0
  while i + 8 <= count {
    for k in 0..<8 {
      let d = Double(p[i + k]) - shift
      lanes[k] += d * d
    }
    i += 8
  }
  var total = lanes.sum()
  while i < count {
    let d = Double(p[i]) - shift
    total += d * d
    i += 1
  }
  return total
}

/// (Σ g, Σ g·(x − μ)·s) over `count` values, in Double, in 8 lanes.
@inline(__always)
func doubleGradientSums<Scalar: TensorScalar>(
  _ g: UnsafePointer<Scalar>, _ x: UnsafePointer<Scalar>, count: Int, mean: Scalar, inverseStd: Scalar
) -> (Double, Double) {
  var sums = SIMD8<Double>.zero, dots = SIMD8<Double>.zero
  var i = 0
  while i + 8 <= count {
    for k in 0..<8 {
      let gv = Double(g[i + k])
      sums[k] += gv
      dots[k] += gv * Double((x[i + k] - mean) * inverseStd)
    }
    i += 8
  }
  var sum = sums.sum(), dot = dots.sum()
  while i < count {
    let gv = Double(g[i])
    sum += gv
    dot += gv * Double((x[i] - mean) * inverseStd)
    i += 1
  }
  return (sum, dot)
}
