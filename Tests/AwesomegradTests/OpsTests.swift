import Foundation
import Testing

@testable import Awesomegrad

/// Golden values for the ops (computed by hand or with PyTorch float64), and Float–Double agreement.
@Suite struct OpsTests {
  static func close(_ a: [Double], _ b: [Double], _ tolerance: Double = 1e-12) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { Swift.abs($0 - $1) <= tolerance * (1 + Swift.abs($1)) }
  }

  /// sqrt 4 = 2, |−3| = 3, 2³ = 8, leakyReLU(−2; 0.1) = −0.2, σ(0) = 0.5.
  @Test func elementaryGoldenValues() {
    #expect(Tensor<Double>([4, 9]).sqrt().scalars == [2, 3])
    #expect(Tensor<Double>([-3, 0, 2]).abs().scalars == [3, 0, 2])
    #expect(Tensor<Double>([2, -1]).pow(3).scalars == [8, -1])
    #expect(Tensor<Double>([-2, 5]).leakyReLU(negativeSlope: 0.1).scalars == [-0.2, 5])
    #expect(Tensor<Double>([0]).sigmoid().scalars == [0.5])
  }

  /// torch.nn.functional.gelu([−1, 0.5, 2]) = [−0.15865525393145702, 0.34573123063700656, 1.9544997361036416];
  /// with approximate='tanh': [−0.15880800939172324, 0.34571400982514394, 1.954597694087775].
  @Test func geluMatchesPyTorch() {
    let x = Tensor<Double>([-1, 0.5, 2])
    #expect(Self.close(x.gelu().scalars, [-0.15865525393145702, 0.34573123063700656, 1.9544997361036416]))
    #expect(
      Self.close(
        x.gelu(approximate: .tanh).scalars, [-0.15880800939172324, 0.34571400982514394, 1.954597694087775]))
    // The GELU module is PyTorch's nn.GELU(approximate='tanh').
    #expect(
      Self.close(GELU<Double>()(x).scalars, [-0.15880800939172324, 0.34571400982514394, 1.954597694087775]))
  }

  /// softplus: ln 2 at 0; x itself above the threshold 20; ≈ e^x for very negative x (no underflow to
  /// log 1 = 0 trouble, no overflow). Its gradient σ(x) is finite at ±1000.
  @Test func softplusIsStable() {
    let x = Tensor<Double>([0, 25, -40, 1000, -1000], requiresGrad: true)
    let y = x.softplus()
    #expect(Self.close(y.scalars, [Foundation.log(2), 25, Foundation.exp(-40), 1000, 0]))
    y.sum().backward()
    #expect(Self.close(x.grad!.scalars, [0.5, 1, Foundation.exp(-40), 1, 0]))
  }

  /// σ(−1000) = 0 with gradient 0, not NaN (the composite 1/(1+e⁻ˣ) gives 0·∞ in its pullback).
  @Test func sigmoidIsStableForLargeInputs() {
    let x = Tensor<Float>([-1000, 1000, -90], requiresGrad: true)
    let y = x.sigmoid()
    y.sum().backward()
    #expect(y.scalars[0] == 0 && y.scalars[1] == 1)
    #expect(x.grad!.scalars.allSatisfy { $0.isFinite && $0 >= 0 })
  }

  /// max of [[1, 5, 5], [2, 0, −1]]: all axes = 5 with the gradient split between the two 5s;
  /// along axis 1 = [5, 2].
  @Test func maxSplitsTheGradientAmongTies() {
    let x = Tensor<Double>([1, 5, 5, 2, 0, -1], shape: [2, 3], requiresGrad: true)
    let m = x.max()
    #expect(m.item() == 5)
    m.backward()
    #expect(x.grad!.scalars == [0, 0.5, 0.5, 0, 0, 0])
    #expect(x.max(axes: [1]).scalars == [5, 2])
    #expect(x.max(axes: [1], keepingDimensions: true).shape == [2, 1])
  }

  /// var([1, 2, 3, 4]) = 5/3 unbiased, 5/4 population.
  @Test func variance() {
    let x = Tensor<Double>([1, 2, 3, 4])
    #expect(Self.close([x.variance().item()], [5.0 / 3]))
    #expect(Self.close([x.variance(correction: 0).item()], [1.25]))
  }

  /// softmax([1, 2, 3]) = [0.09003057317038045, 0.2447284710547976, 0.6652409557748218];
  /// logSumExp([1000, 1000]) = 1000 + ln 2 with no overflow.
  @Test func softmaxFamily() {
    let x = Tensor<Double>([1, 2, 3])
    #expect(Self.close(x.softmax().scalars, [0.09003057317038045, 0.2447284710547976, 0.6652409557748218]))
    #expect(Self.close(x.logSoftmax().exp().scalars, x.softmax().scalars))
    #expect(Self.close([Tensor<Double>([1000, 1000]).logSumExp().item()], [1000 + Foundation.log(2)]))
    #expect(Tensor<Double>([-1000, 0]).softmax().scalars == [0, 1])
  }

  /// Shapes of torch.matmul for every combination of vector and matrix operands.
  @Test func matmulShapesMatchTorch() {
    let v = Tensor<Double>.ones([3]), m = Tensor<Double>.ones([3, 4]), b = Tensor<Double>.ones([2, 3, 4])
    #expect(v.matmul(v).shape == [])
    #expect(v.matmul(m).shape == [4])
    #expect(Tensor<Double>.ones([4, 3]).matmul(v).shape == [4])
    #expect(v.matmul(b).shape == [2, 4])
    #expect(Tensor<Double>.ones([2, 4, 3]).matmul(v).shape == [2, 4])
    #expect(Tensor<Double>.ones([5, 1, 2, 3]).matmul(b).shape == [5, 2, 2, 4])
    #expect(v.matmul(v).item() == 3)
  }

  /// [[0, 1, 2], [3, 4, 5]] permuted, transposed, concatenated and sliced.
  @Test func shapeOps() {
    let x = Tensor<Double>.arange(0, 6).reshaped([2, 3])
    #expect(x.transposed().scalars == [0, 3, 1, 4, 2, 5])
    #expect(x.transposed().shape == [3, 2])
    let y = Tensor<Double>.arange(0, 24).reshaped([2, 3, 4]).permuted([2, 0, 1])
    #expect(y.shape == [4, 2, 3])
    #expect(y.scalars.prefix(6) == [0, 4, 8, 12, 16, 20])
    #expect(Tensor.concatenated([x, x * 10], axis: 0).scalars == [0, 1, 2, 3, 4, 5, 0, 10, 20, 30, 40, 50])
    #expect(Tensor.concatenated([x, x * 10], axis: 1).scalars == [0, 1, 2, 0, 10, 20, 3, 4, 5, 30, 40, 50])
    #expect(x.sliced(axis: 1, start: 1).scalars == [1, 2, 4, 5])
    #expect(x.sliced(axis: -1, start: -1).shape == [2, 1])
    #expect(x.unsqueezed(axis: -1).shape == [2, 3, 1])
    #expect(Tensor<Double>.ones([1, 3, 1]).squeezed().shape == [3])
    #expect(Tensor<Double>([1, 2]).expanded(to: [2, 2]).scalars == [1, 2, 1, 2])
  }

  /// Losses: mse([1, 2], [0, 4]) = (1 + 4)/2; hinge with margins 1 − y·s = [0.5, −1] → 0.25;
  /// BCE with logits at x = 0 is ln 2 for any target.
  @Test func lossGoldenValues() {
    #expect(mse(Tensor<Double>([1, 2]), Tensor([0, 4])).item() == 2.5)
    #expect(mse(Tensor<Double>([1, 2]), Tensor([0, 4]), reduction: .sum).item() == 5)
    #expect(hingeLoss(Tensor<Double>([0.5, 2]), labels: Tensor([1, 1])).item() == 0.25)
    let bce = binaryCrossEntropyWithLogits(
      Tensor<Double>([0, 0]), targets: Tensor([0, 1]), reduction: .none)
    #expect(Self.close(bce.scalars, [Foundation.log(2), Foundation.log(2)]))
    // Large logits stay finite: x = 1000 with target 0 costs 1000.
    #expect(binaryCrossEntropyWithLogits(Tensor<Double>([1000]), targets: Tensor([0])).item() == 1000)
  }

  /// The same composite in Float and Double agrees to Float precision, values and gradients.
  @Test func floatAndDoubleAgree() {
    var rng = SeededGenerator(seed: 7)
    let xd = Tensor<Double>.randomNormal([4, 5], using: &rng)
    let wd = Tensor<Double>.randomNormal([5, 3], using: &rng)
    let xf = Tensor<Float>(xd, requiresGrad: true), wf = Tensor<Float>(wd, requiresGrad: true)
    xd.requireGrad()
    wd.requireGrad()
    func model<S: TensorScalar>(_ x: Tensor<S>, _ w: Tensor<S>) -> Tensor<S> {
      let h = x.matmul(w).gelu().logSoftmax(axis: 1)
      return h.variance(axes: [0]).sum() + h.max() + x.softplus().sqrt().mean() + x.abs().pow(1.5).sum()
    }
    let yd = model(xd, wd), yf = model(xf, wf)
    yd.backward()
    yf.backward()
    #expect(Self.close([Double(yf.item())], [yd.item()], 1e-5))
    #expect(Self.close(xf.grad!.scalars.map(Double.init), xd.grad!.scalars, 1e-4))
    #expect(Self.close(wf.grad!.scalars.map(Double.init), wd.grad!.scalars, 1e-4))
  }
}
