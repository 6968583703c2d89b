import Testing

@testable import Awesomegrad

/// The public gradient accessors of Tensor+GradientAccess.swift, which distributed training uses to
/// average gradients in place.
@Suite struct GradientAccessTests {
  @Test func noGradientMeansNoCall() {
    let w = Tensor<Double>([1, 2, 3]).requireGrad()
    var called = false
    #expect(w.withGradient { _ in called = true } == nil)
    #expect(w.withGradientBuffer { _ in called = true } == nil)
    #expect(!called)
  }

  @Test func readsTheAccumulatedGradient() {  // loss = Σ 2·wᵢ  ⇒  ∂loss/∂wᵢ = 2
    let w = Tensor<Double>([1, 2, 3]).requireGrad()
    (w * Tensor(scalar: 2)).sum().backward()
    #expect(w.withGradient { Array($0) } == [2, 2, 2])
  }

  /// `loss = Σ (a + b)` hands the same upstream gradient storage to both inputs, so a and b share one
  /// gradient buffer: writing a's must not change b's.
  @Test func writeIsCopyOnWrite() {
    let a = Tensor<Double>([1, 2]).requireGrad()
    let b = Tensor<Double>([3, 4]).requireGrad()
    (a + b).sum().backward()
    let held = a.grad!  // shares a's buffer too
    a.withGradientBuffer { g in
      for i in g.indices { g[i] *= 10 }
    }
    #expect(a.grad!.scalars == [10, 10])
    #expect(b.grad!.scalars == [1, 1])
    #expect(held.scalars == [1, 1])
  }

  @Test func writeInPlaceWhenUnshared() {
    let w = Tensor<Double>([1, 2]).requireGrad()
    w.setGradient([5, 6])
    let before = w.withGradient { UnsafeMutablePointer(mutating: $0.baseAddress!) }
    let during = w.withGradientBuffer { g in
      g[0] = 7
      return g.baseAddress!
    }
    #expect(before == during)
    #expect(w.grad!.scalars == [7, 6])
  }

  @Test func setGradientReplacesAndClears() {
    let w = Tensor<Float>.zeros([2, 2]).requireGrad()
    w.setGradient(Tensor<Float>([1, 2, 3, 4], shape: [2, 2]))
    #expect(w.grad!.scalars == [1, 2, 3, 4])
    #expect(w.grad!.shape == [2, 2])
    w.setGradient(nil as Tensor<Float>?)
    #expect(w.grad == nil)
    w.setGradient([9, 9, 9, 9])
    #expect(w.grad!.scalars == [9, 9, 9, 9])
  }
}
