import Foundation
import Micrograd
import Testing

/// The graph is a DAG held only by its result: no cycles, no recursion on the way in or out.
@Suite struct GraphLifetimeTests {
  /// y = x + 1 + 1 + … (10⁶ times)  ⇒  dy/dx = 1. Backward sorts and sweeps a million nodes and the
  /// chain is then freed; neither recurses, so neither overflows the stack.
  @Test func millionNodeChain() {
    let x = Value(0)
    var y = x
    weak var head: Value?
    for _ in 0..<1_000_000 { y = y + 1 }
    head = y
    y.backward()
    #expect(y.data == 1_000_000)
    #expect(x.grad == 1)
    y = Value(0)  // drops the chain, which must be freed (and without recursing)
    #expect(head == nil)
  }

  /// y = x · 1.0000001 · 1.0000001 · …  through Value–Value multiplies, so every link has two inputs.
  @Test func millionNodeProductChain() {
    let x = Value(1)
    let factor = Value(1.0000001)
    var y = x
    for _ in 0..<1_000_000 { y = y * factor }
    y.backward()
    // dy/dx = 1.0000001¹⁰⁰⁰⁰⁰⁰ = y(x = 1), and dy/dfactor = 10⁶ · factor^(10⁶ − 1).
    #expect(isClose(x.grad, y.data, relative: 1e-9))
    #expect(isClose(factor.grad, 1e6 * y.data / 1.0000001, relative: 1e-6))
  }

  /// Weak references to the loss and to interior nodes become nil once the loss is dropped, while the
  /// parameters (held by the model) live on with their gradients.
  @Test func graphIsFreedWithTheLoss() {
    var rng = SplitMix(seed: 3)
    let model = MLP(3, [4, 4, 1], using: &rng)
    weak var weakLoss: Value?
    weak var weakScore: Value?
    weak var weakHidden: Value?
    do {
      let hidden = model.layers[0]([1.0, -2.0, 0.5].map { Value($0) })
      let score = model.layers.dropFirst().reduce(hidden) { $1($0) }[0]
      let loss = (1 - score).relu() + score * score
      weakLoss = loss
      weakScore = score
      weakHidden = hidden[0]
      loss.backward()
      // The graph was walked: ∂loss/∂score = −1[1 − s > 0] + 2s reached the interior node.
      let expected = (1 - score.data > 0 ? -1 : 0) + 2 * score.data
      #expect(isClose(score.grad, expected, relative: 1e-15), "\(score.grad) vs \(expected)")
    }
    #expect(weakLoss == nil)
    #expect(weakScore == nil)
    #expect(weakHidden == nil)
    #expect(model.parameters.contains { $0.grad != 0 })
  }

  /// A node used by two later nodes (a diamond) is freed once, after both.
  @Test func sharedNodesAreFreed() {
    weak var weakShared: Value?
    do {
      let x = Value(2)
      let shared = x * x
      weakShared = shared
      let y = (shared + 1) * (shared.exp() + shared)
      y.backward()
      // y = (x² + 1)(e^{x²} + x²) ⇒ dy/dx = 2x(e^{x²} + x²) + (x² + 1)(2x·e^{x²} + 2x)
      let e4 = Foundation.exp(4.0)
      #expect(isClose(y.data, 5 * (e4 + 4), relative: 1e-15))
      #expect(isClose(x.grad, 4 * (e4 + 4) + 5 * (4 * e4 + 4), relative: 1e-12))
    }
    #expect(weakShared == nil)
  }
}

/// A tiny seedable generator for tests (SplitMix64), so MicrogradTests needs nothing but Micrograd.
struct SplitMix: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
