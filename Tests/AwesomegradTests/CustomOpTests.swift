import Foundation
import Testing

@testable import Awesomegrad

/// Custom ops whose pullbacks are written with tensor ops, and `summed(to:)`, the tensor form of
/// unbroadcast that such pullbacks use.
@Suite struct CustomOpTests {
  static func standardError(_ result: ExitTest.Result?) -> String {
    String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
  }

  /// A fused op as a user would write it: y = tanh(x·Wᵀ + b), one node that keeps only y.
  /// With d = g ⊙ (1 − y²) (tanh′ = 1 − tanh²):
  ///   ∂L/∂x = d·W        [B, out]·[out, in] = [B, in]
  ///   ∂L/∂W = dᵀ·x       [out, B]·[B, in] = [out, in]
  ///   ∂L/∂b = Σ_batch d  [B, out] summed to [out]
  static func affineTanh(_ x: Tensor<Double>, _ w: Tensor<Double>, _ b: Tensor<Double>) -> Tensor<Double> {
    Tensor.custom("affineTanh", inputs: [x, w, b]) { inputs in
      inputs[0].linear(weight: inputs[1], bias: inputs[2]).tanh()
    } pullback: { g, inputs, y in
      let d = g * (1 - y * y)
      return [d.matmul(inputs[1]), d.matmul(inputs[0], transposeA: true), d.summed(to: inputs[2].shape)]
    }
  }

  static func parameters(seed: UInt64) -> (x: Tensor<Double>, w: Tensor<Double>, b: Tensor<Double>) {
    var rng = SeededGenerator(seed: seed)
    return (
      Tensor<Double>.randomNormal([4, 3], using: &rng).requireGrad(),
      Tensor<Double>.randomNormal([2, 3], using: &rng).requireGrad(),
      Tensor<Double>.randomNormal([2], using: &rng).requireGrad()
    )
  }

  /// The fused op's pullback against central finite differences of its forward pass.
  @Test func fusedAffineTanhPassesTheGradientCheck() {
    let (x, w, b) = Self.parameters(seed: 3)
    let result = checkGradients(of: { Self.affineTanh($0[0], $0[1], $0[2]) }, at: [x, w, b])
    #expect(result.passed, "\(result)")
  }

  /// One element by hand: x = 1, W = 0.5, b = 0.25, so y = tanh(0.75) and with L = y,
  /// ∂L/∂x = (1 − y²)·0.5, ∂L/∂W = (1 − y²)·1, ∂L/∂b = 1 − y².
  @Test func fusedAffineTanhOnOneElement() {
    let x = Tensor<Double>([1], shape: [1, 1], requiresGrad: true)
    let w = Tensor<Double>([0.5], shape: [1, 1], requiresGrad: true)
    let b = Tensor<Double>([0.25], requiresGrad: true)
    let y = Self.affineTanh(x, w, b)
    y.sum().backward()
    let slope = 1 - Foundation.tanh(0.75) * Foundation.tanh(0.75)
    #expect(y.scalars == [Foundation.tanh(0.75)])
    #expect(x.grad?.scalars == [slope * 0.5])
    #expect(w.grad?.scalars == [slope])
    #expect(b.grad?.scalars == [slope])
  }

  /// The pullback runs with recording off: grad mode is off inside it, the tensors it makes do not
  /// require grad even when it reads a tensor that does, and the gradient reaches only the op's
  /// declared inputs.
  @Test func tensorPullbackRecordsNoGraph() {
    let scale = Tensor<Double>([2], requiresGrad: true)  // a parameter the closures read
    let x = Tensor<Double>([1, 2, 3], requiresGrad: true)
    var gradModeInPullback: Bool?
    var gradientRequiresGrad: Bool?
    let y = Tensor.custom("scaled", inputs: [x]) { inputs in
      inputs[0] * scale
    } pullback: { g, _, _ in
      gradModeInPullback = GradMode.isEnabled
      let gradient = g * scale
      gradientRequiresGrad = gradient.requiresGrad
      return [gradient]
    }
    #expect(y.requiresGrad && "\(y.op)" == "scaled" && y.parents.count == 1 && y.parents[0] === x)
    #expect(y.scalars == [2, 4, 6])
    y.sum().backward()
    #expect(gradModeInPullback == false)
    #expect(gradientRequiresGrad == false)
    #expect(x.grad?.scalars == [2, 2, 2])
    #expect(scale.grad == nil)
  }

  /// x = [[1, 2, 3], [4, 5, 6]] summed to each shape it broadcasts from.
  @Test func summedToUndoesBroadcasting() {
    let x = Tensor<Double>([1, 2, 3, 4, 5, 6], shape: [2, 3])
    #expect(x.summed(to: [3]).scalars == [5, 7, 9])
    #expect(x.summed(to: [1, 3]).shape == [1, 3])
    #expect(x.summed(to: [2, 1]).scalars == [6, 15])
    #expect(x.summed(to: []).scalars == [21])
    #expect(x.summed(to: [2, 3]).scalars == x.scalars)
    let leaf = x.clone().requireGrad()
    #expect(checkGradients(of: { $0[0].summed(to: [2, 1]) }, at: [leaf]).passed)
    #expect(checkGradients(of: { $0[0].summed(to: [3]) }, at: [leaf]).passed)
  }

  @Test func summedToAShapeThatDoesNotBroadcastStops() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Tensor<Double>.zeros([2, 3]).summed(to: [4])
    }
    let message = Self.standardError(result)
    #expect(message.contains("summed: [4] does not broadcast to the tensor's shape"), "\(message)")
    #expect(message.contains("CustomOpTests.swift"), "\(message)")
  }
}
