import Testing

@testable import Awesomegrad

/// How the graph is recorded, walked and freed.
@Suite struct GraphTests {
  /// y = x·x + x at x = 3 uses x three times: dy/dx = 2x + 1 = 7. A second backward adds another 7
  /// until zeroGrad clears it.
  @Test func gradientsAccumulateAcrossUsesAndCallsUntilZeroGrad() {
    let x = Tensor<Double>(scalar: 3, requiresGrad: true)
    (x * x + x).backward()
    #expect(x.grad?.item() == 7)
    (x * x + x).backward()
    #expect(x.grad?.item() == 14)
    x.zeroGrad()
    #expect(x.grad == nil)
    (x * 2).backward()
    #expect(x.grad?.item() == 2)
  }

  /// A detached tensor shares values but stops gradients: y = x·detach(x) ⇒ dy/dx = detach(x) = 3.
  @Test func detachedStopsGradients() {
    let x = Tensor<Double>(scalar: 3, requiresGrad: true)
    let frozen = (x * 1).detached()
    #expect(frozen.isLeaf && !frozen.requiresGrad)
    #expect(frozen.item() == 3)
    (x * frozen).backward()
    #expect(x.grad?.item() == 3)
  }

  /// Inside withoutGrad, ops record nothing.
  @Test func withoutGradRecordsNothing() {
    let w = Tensor<Double>([1, 2], requiresGrad: true)
    let y = withoutGrad { (w * w).tanh().sum() }
    #expect(!y.requiresGrad)
    #expect(y.isLeaf)
    let z = (w * w).sum()
    #expect(z.requiresGrad && !z.isLeaf)
  }

  /// backward(gradient:) from a non-scalar: y = 2x with upstream u ⇒ ∂/∂x Σ y·u = 2u.
  @Test func backwardFromANonScalarWithAnUpstreamGradient() {
    let x = Tensor<Double>([1, 2, 3, 4], shape: [2, 2], requiresGrad: true)
    let y = x * 2
    y.backward(gradient: Tensor([1, -1, 0.5, 0], shape: [2, 2]))
    #expect(x.grad?.scalars == [2, -2, 1, 0])
  }

  /// y = x + 1 + 1 + … (100,000 times) ⇒ dy/dx = 1. Neither backward nor freeing the chain may
  /// recurse once per link.
  @Test func aChainOneHundredThousandOpsDeepBackpropagatesAndFrees() {
    let x = Tensor<Double>(scalar: 0, requiresGrad: true)
    weak var weakHead: Tensor<Double>?
    do {
      var y = x
      for _ in 0..<100_000 { y = y + 1 }
      weakHead = y
      #expect(y.item() == 100_000)
      y.backward()
    }
    #expect(x.grad?.item() == 1)
    #expect(weakHead == nil)
  }

  /// When the last reference to the loss goes, every tensor of the graph and its buffer go too:
  /// pullbacks never capture tensors, so there are no cycles.
  @Test func theGraphIsFreedWithTheLoss() {
    let w = Tensor<Double>([0.5, -1, 2, 0.25], shape: [2, 2], requiresGrad: true)
    let x = Tensor<Double>([1, 2, 3, 4, 5, 6], shape: [3, 2])
    weak var weakLoss: Tensor<Double>?
    weak var weakHidden: Tensor<Double>?
    weak var weakActivation: Tensor<Double>?
    weak var weakHiddenBuffer: Buffer<Double>?
    weak var weakActivationBuffer: Buffer<Double>?
    do {
      let hidden = x.matmul(w)
      let activation = hidden.tanh()
      let loss = (activation * activation).mean()
      weakLoss = loss
      weakHidden = hidden
      weakActivation = activation
      weakHiddenBuffer = hidden.storage.buffer
      weakActivationBuffer = activation.storage.buffer
      loss.backward()
    }
    #expect(weakLoss == nil)
    #expect(weakHidden == nil)
    #expect(weakActivation == nil)
    #expect(weakHiddenBuffer == nil)
    #expect(weakActivationBuffer == nil)
    #expect(w.grad?.shape == [2, 2])
  }

  /// A graph that was never backpropagated is freed too, intermediate buffers included.
  @Test func anUnusedGraphIsFreed() {
    let w = Tensor<Double>([1, 2, 3], requiresGrad: true)
    weak var weakBuffer: Buffer<Double>?
    do {
      let y = (w.exp() * w).sigmoid().sum()
      weakBuffer = y.storage.buffer
    }
    #expect(weakBuffer == nil)
  }

  /// The hot path of a linear layer, `linear(weight:bias:)` (y = x·Wᵀ + b, the op `Linear` calls),
  /// costs one gemm forward and two backward (∂x = G·W and ∂W = Gᵀ·x; ∂b = Σ_rows G needs none) when
  /// its input requires grad, and one backward when the input is data. The counter sees every call
  /// of `callGemm`; `BLAS.gemm` splits a large product into several blocks over the thread pool, so
  /// the sizes here are chosen to be one block each (checked below): the counts are the top-level
  /// products. The gradients equal those of the same map as matmul + broadcast add.
  @Test func linearForwardAndBackwardCostsThreeGemmCalls() {
    var rng = SeededGenerator(seed: 3)
    let weight = Tensor<Float>.randomNormal([5, 4], requiresGrad: true, using: &rng)
    let bias = Tensor<Float>.randomNormal([5], requiresGrad: true, using: &rng)
    // Forward x·Wᵀ: 8×5 from k = 4; backward G·W: 8×4 from k = 5, Gᵀ·x: 5×4 from k = 8.
    for (m, n, k) in [(8, 5, 4), (8, 4, 5), (5, 4, 8)] { #expect(GemmBlocks(m: m, n: n, k: k).count == 1) }

    let hidden = Tensor<Float>.randomNormal([8, 4], requiresGrad: true, using: &rng)
    let counter = CallCounter()
    let y = BLAS.$gemmCounter.withValue(counter) { hidden.linear(weight: weight, bias: bias) }
    #expect(counter.count == 1)
    BLAS.$gemmCounter.withValue(counter) { y.sum().backward() }
    #expect(counter.count == 3)

    let (gx, gw, gb) = (hidden.grad!.scalars, weight.grad!.scalars, bias.grad!.scalars)
    for t in [hidden, weight, bias] { t.zeroGrad() }
    (hidden.matmul(weight, transposeB: true) + bias).sum().backward()
    #expect(zip(hidden.grad!.scalars, gx).allSatisfy { Swift.abs($0 - $1) < 1e-5 })
    #expect(zip(weight.grad!.scalars, gw).allSatisfy { Swift.abs($0 - $1) < 1e-5 })
    #expect(bias.grad!.scalars == gb)

    let data = Tensor<Float>.randomNormal([8, 4], using: &rng)
    let dataCounter = CallCounter()
    BLAS.$gemmCounter.withValue(dataCounter) { data.linear(weight: weight, bias: bias).sum().backward() }
    #expect(dataCounter.count == 2)
    #expect(data.grad == nil)
  }
}
