import Testing

@testable import Awesomegrad

/// `backward(onLeafGradientReady:)`: each leaf is reported once, as soon as its gradient is final.
@Suite struct LeafGradientReadyTests {
  /// L = Σ (w·x) + Σ (w·w) + 3·b reads w three times: ∂L/∂w = x + 2w, ∂L/∂b = 3. At the moment each
  /// leaf is reported its gradient already has that final value, and each is reported exactly once.
  @Test func aLeafIsReportedOnceWithItsFinalGradient() {
    let w = Tensor<Double>([1, -2, 0.5], requiresGrad: true)
    let b = Tensor<Double>(scalar: 4, requiresGrad: true)
    let x = Tensor<Double>([3, 1, -1])
    let loss = (w * x).sum() + (w * w).sum() + b * 3
    var reported: [(name: String, gradient: [Double])] = []
    loss.backward { leaf in
      reported.append((leaf === w ? "w" : leaf === b ? "b" : "?", leaf.grad!.scalars))
    }
    #expect(reported.map(\.name).sorted() == ["b", "w"])
    #expect(reported.first { $0.name == "w" }?.gradient == [3 + 2, 1 - 4, -1 + 1])
    #expect(reported.first { $0.name == "b" }?.gradient == [3])
    #expect(w.grad?.scalars == [5, -3, 0])
  }

  /// In an MLP the last layer's parameters are final before the first layer's are computed: the
  /// order data-parallel training relies on to start the last buckets' allreduce early. A parameter
  /// the loss does not reach (an unused layer) is never reported.
  @Test func laterLayersAreReportedFirstAndUnusedParametersNever() {
    var rng = SeededGenerator(seed: 3)
    let first = Linear<Double>(inputs: 4, outputs: 5, using: &rng)
    let second = Linear<Double>(inputs: 5, outputs: 2, using: &rng)
    let unused = Linear<Double>(inputs: 2, outputs: 2, using: &rng)
    let x = Tensor<Double>.randomNormal([3, 4], using: &rng)
    let loss = second(first(x).relu()).tanh().mean()
    var order: [ObjectIdentifier] = []
    loss.backward { order.append(ObjectIdentifier($0)) }
    let position = { (t: Tensor<Double>) in order.firstIndex(of: ObjectIdentifier(t)) }
    #expect(order.count == 4)
    #expect(Set(order).count == 4)
    for later in [second.weight, second.bias!] {
      for earlier in [first.weight, first.bias!] {
        #expect(position(later)! < position(earlier)!)
      }
    }
    #expect(position(unused.weight) == nil)
  }

  /// backward on a leaf: its gradient (the seed, 1) is final at once.
  @Test func backwardOnALeafReportsIt() {
    let s = Tensor<Double>(scalar: 2, requiresGrad: true)
    var reported = 0
    s.backward { leaf in
      #expect(leaf === s && leaf.grad?.item() == 1)
      reported += 1
    }
    #expect(reported == 1)
  }
}
