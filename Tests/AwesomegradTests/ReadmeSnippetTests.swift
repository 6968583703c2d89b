import Awesomegrad
import Testing

/// The README's "Gradients of gradients" snippet, as printed there, with the values its comments give.
@Suite struct ReadmeSnippetTests {
  /// y = x³ at x = 3: y′ = 3x² = 27, y″ = 6x = 18, and the Hessian-vector product of Σx³ in the
  /// direction v = x is 6x·v = 54.
  @Test func gradientsOfGradientsSnippet() {
    let x = Tensor<Double>([3], shape: [1]).requireGrad()
    let dy = gradients(of: (x * x * x).sum(), at: [x], createGraph: true)[0]  // 3x² = 27, with a graph
    let d2y = gradients(of: dy.sum(), at: [x])[0]  // 6x = 18
    let (_, hv) = hessianVectorProduct(of: { ($0[0] * $0[0] * $0[0]).sum() }, at: [x], direction: [x])
    #expect(dy.scalars == [27])
    #expect(d2y.scalars == [18])
    #expect(hv[0].scalars == [54])
  }
}
