import Foundation
import Testing
import TorchConformance

@testable import Awesomegrad

/// Gradients of gradients: `backward(createGraph:)`, `gradients(of:at:createGraph:)`, the functional
/// helpers, and second-order finite-difference checks of every op family.
@Suite struct SecondOrderTests {
  /// y = x³ at x = 3: dy/dx = 3x² = 27, d²y/dx² = 6x = 18, d³y/dx³ = 6.
  @Test func cubeToThirdOrder() {
    let x = Tensor<Double>([3], shape: [1]).requireGrad()
    let y = (x * x * x).sum()
    y.backward(createGraph: true)
    let first = x.grad!
    #expect(first.scalars == [27])
    #expect(first.requiresGrad)
    x.zeroGrad()
    let second = gradients(of: first.sum(), at: [x], createGraph: true)[0]
    #expect(second.scalars == [18])
    let third = gradients(of: second.sum(), at: [x])[0]
    #expect(third.scalars == [6])
  }

  /// Without createGraph the gradient is a constant, and backward accumulates as before.
  @Test func firstOrderGradientsAreConstants() {
    let x = Tensor<Double>([2], shape: [1]).requireGrad()
    let g = gradients(of: (x * x).sum(), at: [x])[0]
    #expect(g.scalars == [4])
    #expect(!g.requiresGrad)
    #expect(x.grad == nil)  // the functional form leaves .grad alone
  }

  /// u = exp(2x)·y: ∂u/∂x = 2u, ∂²u/∂x∂y = 2·exp(2x) (the mixed term).
  @Test func mixedSecondDerivative() {
    let x = Tensor<Double>([0.5], shape: [1]).requireGrad()
    let y = Tensor<Double>([3], shape: [1]).requireGrad()
    let u = ((x * 2).exp() * y).sum()
    let dx = gradients(of: u, at: [x], createGraph: true)[0]
    let dxy = gradients(of: dx.sum(), at: [y])[0]
    #expect(Swift.abs(dxy.scalars[0] - 2 * Foundation.exp(1.0)) < 1e-12)
  }

  /// f(x) = Σ x⁴: H = diag(12x²), so H·v = 12x²v; and the gradient of Σ H·v is 24x·v (third order).
  @Test func hessianVectorProductAndItsGradient() {
    let x = Tensor<Double>([1, -2, 0.5], shape: [3]).requireGrad()
    let v = Tensor<Double>([1, 0.5, -1], shape: [3])
    let f: ([Tensor<Double>]) -> Tensor<Double> = { ($0[0] * $0[0] * $0[0] * $0[0]).sum() }
    let (value, product) = hessianVectorProduct(of: f, at: [x], direction: [v], createGraph: true)
    #expect(value.scalars == [1 + 16 + 0.0625])
    #expect(product[0].scalars == [12, 24, -3])
    let third = gradients(of: product[0].sum(), at: [x])[0]
    #expect(third.scalars == [24, -24, -12])
  }

  /// f(x) = x², elementwise: J = diag(2x), J·v = 2x⊙v (double-vjp); the Jacobian is diag(2x).
  @Test func jacobianVectorProductAndJacobian() {
    let x = Tensor<Double>([1, 2], shape: [2])
    let (_, jv) = jacobianVectorProduct(
      of: { $0[0] * $0[0] }, at: [x], direction: [Tensor([1, 3], shape: [2])])
    #expect(jv.scalars == [2, 12])
    let j = jacobian(of: { $0[0] * $0[0] }, at: [x])[0]
    #expect(j.shape == [2, 2])
    #expect(j.scalars == [2, 0, 0, 4])
  }

  /// f(a, b) = Σ a²·b: ∂²f/∂a² = diag(2b), ∂²f/∂a∂b = diag(2a), ∂²f/∂b² = 0.
  @Test func hessianBlocks() {
    let a = Tensor<Double>([1, 2], shape: [2]), b = Tensor<Double>([3, 4], shape: [2])
    let h = hessian(of: { ($0[0] * $0[0] * $0[1]).sum() }, at: [a, b])
    #expect(h[0][0].scalars == [6, 0, 0, 8])
    #expect(h[0][1].scalars == [2, 0, 0, 4])
    #expect(h[1][0].scalars == [2, 0, 0, 4])
    #expect(h[1][1].scalars == [0, 0, 0, 0])
  }

  /// A custom op whose pullback uses tensor ops differentiates again: y = x³ with ∂y/∂x = 3x²·g.
  @Test func customOpWithTensorPullback() {
    let cube: (Tensor<Double>) -> Tensor<Double> = { x in
      Tensor.custom("cube", inputs: [x]) {
        $0[0] * $0[0] * $0[0]
      } pullback: { g, inputs, _ in
        [g * 3 * inputs[0] * inputs[0]]
      }
    }
    let x = Tensor<Double>([2], shape: [1]).requireGrad()
    let first = gradients(of: cube(x).sum(), at: [x], createGraph: true)[0]
    #expect(first.scalars == [12])
    #expect(gradients(of: first.sum(), at: [x])[0].scalars == [12])
  }

  /// A storage pullback cannot be recorded: createGraph stops with the op's name.
  @Test func aStoragePullbackStopsUnderCreateGraph() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      let x = Tensor<Double>([2], shape: [1]).requireGrad()
      let y = Tensor.custom("storageCube", inputs: [x]) {
        $0[0].mapped { $0 * $0 * $0 }
      } pullback: { g, v, _ in
        [g.zip(v[0]) { g, x in 3 * x * x * g }]
      }
      _ = gradients(of: y.sum(), at: [x], createGraph: true)
    }
    let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    #expect(message.contains("storageCube"), "\(message)")
    #expect(message.contains("has no differentiable pullback"), "\(message)")
  }

  /// A saved input modified in place between the recorded first pass and the second one is caught.
  @Test func versionCounterThroughDoubleBackward() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      let x = Tensor<Double>([2], shape: [1]).requireGrad()
      let w = Tensor<Double>([3], shape: [1]).requireGrad()
      let first = gradients(of: (x * x * w).sum(), at: [x], createGraph: true)[0]  // 2xw
      w.updateValues { $0[0] = 5 }
      _ = gradients(of: first.sum(), at: [w])
    }
    let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    #expect(message.contains("modified by an in-place operation"), "\(message)")
  }

  /// Without retainGraph, a pass releases the graph; the second pass through it stops.
  @Test func releasedGraphStopsTheSecondPass() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      let x = Tensor<Double>([2], shape: [1]).requireGrad()
      let first = gradients(of: (x * x * x).sum(), at: [x], createGraph: true, retainGraph: false)[0]
      _ = gradients(of: first.sum(), at: [x])
    }
    let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    #expect(message.contains("second time"), "\(message)")
  }

  /// An anomaly in the second pass names the op and the pass. y = x^1.5 at x = 0: the first pass
  /// records 1.5·x^0.5 = 0 (finite); the second differentiates x^0.5, whose derivative 0.5·x^(−0.5)
  /// is infinite at 0.
  @Test func anomalyInTheSecondPassNamesThePass() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      withAnomalyDetection {
        let x = Tensor<Double>([0], shape: [1]).requireGrad()
        let first = gradients(of: x.pow(1.5).sum(), at: [x], createGraph: true)[0]
        _ = gradients(of: first.sum(), at: [x])
      }
    }
    let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    #expect(
      message.contains("backward pass 2 (through a gradient recorded with createGraph) of pow produced inf"),
      "\(message)")
  }

  /// The grad2 fixtures (PyTorch's Hessian-vector products) in Double and Float: the shared one,
  /// and the ops of the v1/v2 vocabularies it leaves out (Benchmarks/reference/make_grad2_extra_fixture.py).
  @Test(arguments: [("torch_ops_grad2_seed0", 70), ("torch_ops_grad2_extra_seed0", 28)])
  func grad2Fixture(_ name: String, _ count: Int) throws {
    let fixture = try ConformanceTests.fixture(name)
    let results = ConformanceRunner().run(fixture)
    #expect(results.count == count)
    #expect(results.filter { !$0.passed }.isEmpty, "\(results.filter { !$0.passed })")
  }
}
