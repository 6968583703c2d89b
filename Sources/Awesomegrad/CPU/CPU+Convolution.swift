/// The convolution's loops: unfold (`Im2Col.swift`) and gemm per image, split over the pool by image.
///
/// The forward pass and the input gradient are independent per image, so threads take whole images
/// and each image's products run on that thread alone (single-threaded gemm inside the region). The
/// weight and bias gradients are sums over the batch: the images are cut into shape-fixed chunks,
/// each chunk accumulates its own partial (gemm with β = 1 over its images), and the partials are
/// added in chunk order, so the bits do not depend on the thread count.

/// How a convolution splits one image's output rows so that the unfolded columns fit the workspace.
struct ConvPlan {
  let geometry: ConvGeometry
  /// Output rows unfolded at once.
  let rowsPerBlock: Int
  /// Scalars of the unfolded-column buffer; 0 for a pointwise kernel.
  let workspaceCount: Int

  init(_ geometry: ConvGeometry) {
    self.geometry = geometry
    if geometry.isPointwise {
      rowsPerBlock = geometry.outH
      workspaceCount = 0
      return
    }
    let rowColumns = Swift.max(geometry.columnRows * geometry.outW, 1)
    rowsPerBlock = Swift.max(1, Swift.min(geometry.outH, convolutionWorkspaceLimit / rowColumns))
    workspaceCount = geometry.columnRows * geometry.outW * rowsPerBlock
  }

  /// The blocks of output rows, in order.
  var blocks: StrideTo<Int> { Swift.stride(from: 0, to: geometry.outH, by: rowsPerBlock) }

  /// The rows of the block starting at `start`.
  @inline(__always) func rows(from start: Int) -> Range<Int> {
    start..<Swift.min(start + rowsPerBlock, geometry.outH)
  }
}

extension CPU {
  /// The multiply-adds below which a loop over images stays on the calling thread (about 10 µs).
  static let convolutionGrainWork = 1 << 17
  /// The most scalars the weight-gradient partials of one backward pass may take (16 MiB in Float).
  static let convolutionPartialLimit = 1 << 22
  /// The most chunks of images the weight gradient is split into.
  static let maximumConvolutionChunks = 32

  /// How many shape-fixed chunks of images the weight gradient of a convolution is summed in.
  static func convolutionImageChunks(batch: Int, weightCount: Int) -> Int {
    Swift.max(1, Swift.min(batch, maximumConvolutionChunks, convolutionPartialLimit / Swift.max(weightCount, 1)))
  }

  /// y = conv(x, W) + b for a batch of images, shapes checked by the caller:
  /// x `[batch, channels, H, W]`, W `[outChannels, channels / groups, kh, kw]`, y `[batch, outChannels, oH, oW]`.
  @inline(__always)
  static func convolutionForward<T: TensorScalar>(
    _ x: UnsafePointer<T>, weight w: UnsafePointer<T>, bias b: UnsafePointer<T>?, into y: UnsafeMutablePointer<T>,
    batch: Int, outChannels: Int, groups: Int, plan: ConvPlan
  ) {
    let g = plan.geometry
    let positions = g.positions, k = g.columnRows
    let groupOut = outChannels / groups
    let imageCount = g.channels * groups * g.height * g.width
    let perImage = Swift.max(1, outChannels * positions * k)
    parallelFor(0..<batch, grain: Swift.max(1, convolutionGrainWork / perImage)) { images in
      let workspace = UnsafeMutablePointer<T>.allocate(capacity: Swift.max(plan.workspaceCount, 1))
      defer { workspace.deallocate() }
      for n in images {
        let sample = y + n * outChannels * positions
        // The bias is written first and the gemm adds to it (β = 1).
        if let b {
          for o in 0..<outChannels { (sample + o * positions).initialize(repeating: b[o], count: positions) }
        }
        let beta: T = b == nil ? 0 : 1
        for group in 0..<groups {
          let image = x + n * imageCount + group * g.channels * g.height * g.width
          let weights = w + group * groupOut * k
          let target = sample + group * groupOut * positions
          if g.isPointwise {
            BLAS.gemm(
              transposeA: false, transposeB: false, m: groupOut, n: positions, k: k, alpha: 1, a: weights, lda: k,
              b: image, ldb: positions, beta: beta, c: target, ldc: positions)
            continue
          }
          for start in plan.blocks {
            let rows = plan.rows(from: start)
            let blockPositions = rows.count * g.outW
            unfold(image, g, rows: rows, into: workspace, ld: blockPositions)
            BLAS.gemm(
              transposeA: false, transposeB: false, m: groupOut, n: blockPositions, k: k, alpha: 1, a: weights,
              lda: k, b: workspace, ldb: blockPositions, beta: beta, c: target + start * g.outW, ldc: positions)
          }
        }
      }
    }
  }

  /// The gradients of a convolution for the upstream gradient `gradient` (`[batch, out, oH, oW]`):
  /// ∂x, ∂W and ∂b, each written (every element) where its pointer is given. ∂x is zeroed and folded
  /// image by image on the thread that owns the image.
  @inline(__always)
  static func convolutionBackward<T: TensorScalar>(
    _ gradient: UnsafePointer<T>, _ x: UnsafePointer<T>, weight w: UnsafePointer<T>,
    inputGradient gx: UnsafeMutablePointer<T>?, weightGradient gw: UnsafeMutablePointer<T>?,
    biasGradient gb: UnsafeMutablePointer<T>?, batch: Int, outChannels: Int, groups: Int, plan: ConvPlan
  ) {
    let g = plan.geometry
    let positions = g.positions, k = g.columnRows
    let groupOut = outChannels / groups
    let imageCount = g.channels * groups * g.height * g.width
    let weightCount = outChannels * k
    gw?.initialize(repeating: 0, count: weightCount)
    gb?.initialize(repeating: 0, count: outChannels)
    if gx == nil && gw == nil && gb == nil { return }
    // Chunk c of images accumulates ∂W and ∂b into its own partial (chunk 0 into the result itself).
    let sums = gw != nil || gb != nil
    let chunks = sums ? convolutionImageChunks(batch: batch, weightCount: weightCount) : Swift.max(batch, 1)
    let imagesPerChunk = (batch + chunks - 1) / chunks
    let chunkCount = batch == 0 ? 0 : (batch + imagesPerChunk - 1) / imagesPerChunk
    let partialCount = (gw == nil ? 0 : weightCount) + (gb == nil ? 0 : outChannels)
    let partials = UnsafeMutablePointer<T>.allocate(capacity: Swift.max(1, (chunkCount - 1) * partialCount))
    defer { partials.deallocate() }
    if chunkCount > 1 { partials.initialize(repeating: 0, count: (chunkCount - 1) * partialCount) }

    func backwardImages(_ chunk: Int) {
      let images = (chunk * imagesPerChunk)..<Swift.min(batch, (chunk + 1) * imagesPerChunk)
      let partial = chunk == 0 ? nil : partials + (chunk - 1) * partialCount
      let weightTarget = gw.map { partial ?? $0 }
      let biasTarget = gb.map { gb in partial.map { $0 + (gw == nil ? 0 : weightCount) } ?? gb }
      let workspace = UnsafeMutablePointer<T>.allocate(capacity: Swift.max(plan.workspaceCount, 1))
      defer { workspace.deallocate() }
      for n in images {
        let upstream = gradient + n * outChannels * positions
        if let biasTarget {
          for o in 0..<outChannels { biasTarget[o] += sumOfRun(upstream + o * positions, count: positions) }
        }
        if gx == nil && weightTarget == nil { continue }
        // Fold adds into the image's gradient: zero it here, on the thread that folds into it (a
        // pointwise kernel writes it whole with β = 0).
        if let gx, !g.isPointwise { (gx + n * imageCount).update(repeating: 0, count: imageCount) }
        for group in 0..<groups {
          let imageOffset = n * imageCount + group * g.channels * g.height * g.width
          let weights = w + group * groupOut * k
          let groupUpstream = upstream + group * groupOut * positions
          if g.isPointwise {
            if let weightTarget {
              // ∂W_g += G · xᵀ
              BLAS.gemm(
                transposeA: false, transposeB: true, m: groupOut, n: k, k: positions, alpha: 1, a: groupUpstream,
                lda: positions, b: x + imageOffset, ldb: positions, beta: 1, c: weightTarget + group * groupOut * k,
                ldc: k)
            }
            if let gx {
              // ∂x = Wᵀ · G
              BLAS.gemm(
                transposeA: true, transposeB: false, m: k, n: positions, k: groupOut, alpha: 1, a: weights, lda: k,
                b: groupUpstream, ldb: positions, beta: 0, c: gx + imageOffset, ldc: positions)
            }
            continue
          }
          for start in plan.blocks {
            let rows = plan.rows(from: start)
            let blockPositions = rows.count * g.outW
            let blockUpstream = groupUpstream + start * g.outW
            if let weightTarget {
              unfold(x + imageOffset, g, rows: rows, into: workspace, ld: blockPositions)
              BLAS.gemm(
                transposeA: false, transposeB: true, m: groupOut, n: k, k: blockPositions, alpha: 1,
                a: blockUpstream, lda: positions, b: workspace, ldb: blockPositions, beta: 1,
                c: weightTarget + group * groupOut * k, ldc: k)
            }
            if let gx {
              BLAS.gemm(
                transposeA: true, transposeB: false, m: k, n: blockPositions, k: groupOut, alpha: 1, a: weights,
                lda: k, b: blockUpstream, ldb: positions, beta: 0, c: workspace, ldc: blockPositions)
              foldAdding(workspace, ld: blockPositions, g, rows: rows, into: gx + imageOffset)
            }
          }
        }
      }
    }

    if sums {
      // The chunks are fixed by the shape; each one's partial is added in chunk order below.
      let perChunk = Swift.max(1, imagesPerChunk * outChannels * positions * k)
      if chunkCount > 1 && perChunk >= convolutionGrainWork {
        parallelChunks(chunkCount, backwardImages)
      } else {
        for chunk in 0..<chunkCount { backwardImages(chunk) }
      }
      for chunk in 1..<Swift.max(chunkCount, 1) {
        let partial = partials + (chunk - 1) * partialCount
        if let gw { add(partial, into: gw, count: weightCount) }
        if let gb { add(partial + (gw == nil ? 0 : weightCount), into: gb, count: outChannels) }
      }
    } else {
      // Only ∂x: every image on its own, one image per chunk.
      let perImage = Swift.max(1, outChannels * positions * k)
      parallelFor(0..<chunkCount, grain: Swift.max(1, convolutionGrainWork / perImage)) { images in
        for chunk in images { backwardImages(chunk) }
      }
    }
  }
}
