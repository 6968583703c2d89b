import Testing

@testable import Awesomegrad

@Suite struct TensorBasicsTests {
  /// y = Σ tanh(x·W + b); checks shapes and that gradients exist with the right shapes.
  @Test func linearTanhGradientShapes() {
    var rng = SeededGenerator(seed: 1)
    let x = Tensor<Double>.randomNormal([4, 3], using: &rng)
    let w = Tensor<Double>.randomNormal([3, 2], using: &rng).requireGrad()
    let b = Tensor<Double>.zeros([2]).requireGrad()
    let y = (x.matmul(w) + b).tanh().sum()
    y.backward()
    #expect(w.grad?.shape == [3, 2])
    #expect(b.grad?.shape == [2])
  }

  /// y = x² + 5x + 4 at x = 3  ⇒  y = 28, dy/dx = 2x + 5 = 11.
  @Test func polynomial() {
    let x = Tensor<Double>(scalar: 3, requiresGrad: true)
    let y = x * x + 5 * x + 4
    y.backward()
    #expect(y.item() == 28)
    #expect(x.grad?.item() == 11)
  }

  /// eye(3) is the 3×3 identity: ones on the diagonal, zeros elsewhere.
  @Test func eyeIsTheIdentity() {
    let i = Tensor<Float>.eye(3)
    #expect(i.shape == [3, 3])
    #expect(i.scalars == [1, 0, 0, 0, 1, 0, 0, 0, 1])
  }
}
