import Testing

@testable import Awesomegrad

/// Layout ops at gemm speed: folded leading axes, batched products, tiled permutes, slice gradients.
@Suite struct LayoutTests {
  /// Linear on [B, T, C] folds B·T into the rows of one gemm: forward 1 call, backward 2 (∂x, ∂W),
  /// and ∂W = Σ over all B·T rows of gᵀx has the weight's shape. Checked against the same layer on
  /// the [B·T, C] reshape.
  @Test func linearOnThreeAxesIsThreeGemmCalls() {
    var rng = SeededGenerator(seed: 1)
    let layer = Linear<Double>(inputs: 5, outputs: 3, using: &rng)
    let x = Tensor<Double>.randomNormal([4, 6, 5], using: &rng).requireGrad()
    let counter = CallCounter()
    BLAS.$gemmCounter.withValue(counter) { layer(x).tanh().sum().backward() }
    #expect(counter.count == 3)
    let foldedWeightGrad = layer.weight.grad!.scalars, foldedInputGrad = x.grad!.scalars
    layer.zeroGrad()
    let flat = Tensor<Double>(x.storage.reshaped([24, 5]), requiresGrad: true)
    layer(flat).tanh().sum().backward()
    #expect(layer.weight.grad!.shape == [3, 5])
    #expect(zip(layer.weight.grad!.scalars, foldedWeightGrad).allSatisfy { Swift.abs($0 - $1) < 1e-12 })
    #expect(zip(flat.grad!.scalars, foldedInputGrad).allSatisfy { Swift.abs($0 - $1) < 1e-12 })
  }

  /// [B, H, T, d] · [B, H, d, T]: one gemm per matrix (B·H = 6), and the same per-matrix products
  /// as 2-D matmuls of the slices.
  @Test func batchedMatmulIsOneGemmPerMatrix() {
    var rng = SeededGenerator(seed: 2)
    let q = Tensor<Double>.randomNormal([2, 3, 4, 5], using: &rng)
    let k = Tensor<Double>.randomNormal([2, 3, 5, 4], using: &rng)
    let counter = CallCounter()
    let scores = BLAS.$gemmCounter.withValue(counter) { q.matmul(k) }
    #expect(counter.count == 6)
    // Matrix (1, 2): rows 4, columns 4.
    let qm = Tensor<Double>(Array(q.scalars[(5 * 20)..<(6 * 20)]), shape: [4, 5])
    let km = Tensor<Double>(Array(k.scalars[(5 * 20)..<(6 * 20)]), shape: [5, 4])
    let expected = qm.matmul(km).scalars
    #expect(Array(scores.scalars[(5 * 16)..<(6 * 16)]) == expected)
  }

  /// The tiled permute equals the definition out[i₀…] = in[i_axes⁻¹…] for shapes larger than a tile
  /// and with ragged edges, including the attention head split [B, T, H, d] → [B, H, T, d].
  @Test(arguments: [
    ([3, 70, 45], [0, 2, 1]), ([2, 33, 4, 8], [0, 2, 1, 3]), ([40, 37], [1, 0]), ([2, 3, 4, 5], [3, 1, 0, 2]),
    ([5, 0, 3], [2, 1, 0]),
  ])
  func tiledPermuteMatchesTheDefinition(shape: [Int], axes: [Int]) {
    let n = shape.reduce(1, *)
    let x = Tensor<Double>((0..<n).map(Double.init), shape: shape)
    let y = x.permuted(axes)
    let outShape = axes.map { shape[$0] }
    #expect(y.shape == outShape)
    // Reference: walk every output index, map it back to the input's, read the row-major offset.
    var expected: [Double] = []
    var index = [Int](repeating: 0, count: shape.count)
    for _ in 0..<n {
      var source = [Int](repeating: 0, count: shape.count)
      for (o, a) in axes.enumerated() { source[a] = index[o] }
      var offset = 0
      for (i, size) in zip(source, shape) { offset = offset * size + i }
      expected.append(Double(offset))
      var k = shape.count - 1
      while k >= 0 {
        index[k] += 1
        if index[k] < outShape[k] { break }
        index[k] = 0
        k -= 1
      }
    }
    #expect(y.scalars == expected)
  }

  /// Three slices of one tensor (q, k, v from c_attn) send their gradients into their regions of one
  /// gradient buffer: ∂/∂x Σ (1·q + 2·k + 3·v) is 1, 2, 3 on the thirds of the last axis.
  @Test func slicesAddIntoTheirRegions() {
    let x = Tensor<Double>.zeros([2, 6], requiresGrad: true)
    let q = x.sliced(axis: 1, start: 0, end: 2), k = x.sliced(axis: 1, start: 2, end: 4)
    let v = x.sliced(axis: 1, start: 4, end: 6)
    #expect(q.sliceRegion != nil)
    (q.sum() + (k * 2).sum() + (v * 3).sum()).backward()
    #expect(x.grad!.scalars == [1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3])
  }
}
