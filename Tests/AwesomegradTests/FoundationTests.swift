import Testing

@testable import Awesomegrad

/// The engine's rules for in-place updates, graph release, private gradients, custom ops and small
/// API fits (issue "engine foundations").
@Suite struct FoundationTests {
  static func standardError(_ result: ExitTest.Result?) -> String {
    String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
  }

  // MARK: In-place updates

  /// forward → optimizer.step() → backward used to give ∂L/∂w of the *new* weights. Now the
  /// pullback of linear (x·Wᵀ + b) sees that its saved weight changed and stops, naming the op and
  /// the shapes.
  @Test func optimizerStepBetweenForwardAndBackwardStops() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      var rng = SeededGenerator(seed: 1)
      let model = Linear<Double>(inputs: 3, outputs: 2, using: &rng)
      let optimizer = SGD(model.parameters, learningRate: 0.1)
      let x = Tensor<Double>.ones([4, 3])
      let loss = model(x).tanh().sum()
      model.weight.backwardless_fillGradient()
      optimizer.step()  // modifies the weight that linear saved
      loss.backward()
    }
    let message = Self.standardError(result)
    #expect(message.contains("modified by an in-place operation"), "\(message)")
    #expect(message.contains("linear's gradient"), "\(message)")
    #expect(message.contains("[4, 3], [2, 3], [2]"), "\(message)")
    #expect(message.contains("FoundationTests.swift:"), "\(message)")
  }

  /// The same order is fine when backward comes first; and each update raises the buffer version.
  @Test func versionCountsInPlaceUpdates() {
    let w = Tensor<Double>([1, 2], requiresGrad: true)
    let view = w.reshaped([2, 1])  // shares the buffer, and so the version
    #expect(w.storage.buffer.version == 0)
    w.updateValues { $0[0] = 5 }
    #expect(w.storage.buffer.version == 1 && view.storage.buffer.version == 1)
    #expect(view.scalars == [5, 2])
  }

  /// clone() copies the values and stays in the graph: y = Σ clone(x)² ⇒ ∂y/∂x = 2x; modifying the
  /// clone in place leaves x alone.
  @Test func cloneCopiesAndPassesGradients() {
    let x = Tensor<Double>([1, 2, 3], requiresGrad: true)
    let c = x.clone()
    #expect(c.storage.buffer !== x.storage.buffer)
    (c * c).sum().backward()
    #expect(x.grad?.scalars == [2, 4, 6])
    c.updateValues { $0[0] = 100 }
    #expect(x.scalars == [1, 2, 3])
  }

  // MARK: Graph release

  /// After backward, the loss keeps no activations: its inputs are gone, and the tensors of the
  /// forward pass are freed although the loss is still held (as `history.append(loss)` does).
  @Test func backwardReleasesTheGraph() {
    let w = Tensor<Double>([0.5, -0.5], requiresGrad: true)
    weak var activation: Tensor<Double>?
    var history: [Tensor<Double>] = []
    do {
      let hidden = (w * 3).tanh()
      activation = hidden
      let loss = hidden.sum()
      loss.backward()
      history.append(loss)
    }
    #expect(activation == nil, "the activation outlived backward")
    #expect(history[0].parents.isEmpty && history[0].pullback == nil)
    #expect(!history[0].isLeaf)
  }

  /// retainGraph keeps it: two backward passes give twice the gradient. y = 3x ⇒ 3 + 3.
  @Test func retainGraphAllowsASecondBackward() {
    let x = Tensor<Double>(scalar: 2, requiresGrad: true)
    let y = x * 3
    y.backward(retainGraph: true)
    y.backward()
    #expect(x.grad?.item() == 6)
  }

  /// A second backward through a released graph is a clear error.
  @Test func secondBackwardThroughReleasedGraphStops() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      let x = Tensor<Double>(scalar: 2, requiresGrad: true)
      let y = (x * 3).exp()
      y.backward()
      y.backward()
    }
    let message = Self.standardError(result)
    #expect(message.contains("backpropagate through the graph a second time"), "\(message)")
    #expect(message.contains("retainGraph: true"), "\(message)")
  }

  /// Memory held after backward: a kept loss of a model with a large activation holds only a few
  /// bytes. The activation [256, 4096] Doubles is 8 MiB; after backward only the loss's one scalar
  /// (and the parameters) remain reachable from the loss.
  @Test func keptLossHoldsNoActivationMemory() {
    var rng = SeededGenerator(seed: 3)
    let model = Linear<Double>(inputs: 16, outputs: 4096, using: &rng)
    let x = Tensor<Double>.randomNormal([256, 16], using: &rng)
    let loss = model(x).relu().mean()
    #expect(reachableBytes(from: loss) > 8 * 1024 * 1024)
    loss.backward()
    #expect(reachableBytes(from: loss) == 8)
  }

  /// The bytes of values held by `root` and every tensor reachable from it through the graph.
  func reachableBytes(from root: Tensor<Double>) -> Int {
    var seen = Set<ObjectIdentifier>(), stack = [root], bytes = 0
    while let t = stack.popLast() {
      guard seen.insert(ObjectIdentifier(t)).inserted else { continue }
      bytes += t.count * MemoryLayout<Double>.stride
      stack += t.parents
    }
    return bytes
  }

  // MARK: Private gradients

  /// a + b hands the same upstream gradient to both inputs; each leaf keeps its own buffer, and the
  /// caller's upstream tensor is shared with neither.
  @Test func leafGradientsNeverShareABuffer() {
    let a = Tensor<Double>([1, 2], requiresGrad: true)
    let b = Tensor<Double>([3, 4], requiresGrad: true)
    let upstream = Tensor<Double>([1, 1])
    (a + b).backward(gradient: upstream)
    let ga = a.gradStorage!.buffer, gb = b.gradStorage!.buffer
    #expect(ga !== gb)
    #expect(ga !== upstream.storage.buffer && gb !== upstream.storage.buffer)
    // A leaf that is itself the root does not share the caller's gradient either.
    let c = Tensor<Double>([5, 6], requiresGrad: true)
    c.backward(gradient: upstream)
    #expect(c.gradStorage!.buffer !== upstream.storage.buffer)
    a.grad!.updateValues { $0[0] = 99 }
    #expect(b.grad?.scalars == [1, 1] && upstream.scalars == [1, 1])
  }

  /// A layer used twice is one parameter set: listed once, stepped once. y = L(L(x)).
  @Test func sharedLayerIsListedAndSteppedOnce() {
    var rng = SeededGenerator(seed: 4)
    let shared = Linear<Double>(inputs: 2, outputs: 2, using: &rng)
    let model = Sequential<Double>(shared, ReLU(), shared)
    #expect(model.parameters.count == 2)
    #expect(model.namedParameters.map(\.name) == ["0.weight", "0.bias"])
    let optimizer = SGD(model.parameters + model.parameters, learningRate: 0.5)
    #expect(optimizer.parameters.count == 2)
    let before = shared.bias!.scalars
    let x = Tensor<Double>([1, 2], shape: [1, 2])
    model(x).sum().backward()
    let gradient = shared.bias!.grad!.scalars
    optimizer.step()
    // Stepped once: b ← b − 0.5·g, not b − 2·0.5·g.
    #expect(zip(zip(before, gradient), shared.bias!.scalars).allSatisfy { $0.0 - 0.5 * $0.1 == $1 })
  }

  // MARK: Module tree

  final class Block: Module<Double> {
    let attention: Linear<Double>, norm: Dropout<Double>
    let scale: Tensor<Double>, running: Tensor<Double>
    init(using rng: inout SeededGenerator) {
      attention = Linear(inputs: 2, outputs: 2, using: &rng)
      norm = Dropout(probability: 0.5, using: &rng)
      scale = Tensor.ones([2])
      running = Tensor.zeros([2])
      super.init()
      register("attn", attention)
      register("drop", norm)
      registerParameter("scale", scale)
      registerBuffer("running_mean", running)
    }
    override func callAsFunction(_ x: Tensor<Double>) -> Tensor<Double> { norm(attention(x)) * scale }
    /// A second forward with two inputs, as attention(x, mask:) has.
    func callAsFunction(_ x: Tensor<Double>, mask: MaskTensor) -> Tensor<Double> {
      self(x).maskedFillForTest(mask)
    }
  }

  final class Net: Module<Double> {
    let blocks: Sequential<Double>
    init(using rng: inout SeededGenerator) {
      blocks = Sequential(Block(using: &rng), Block(using: &rng))
      super.init()
      register("blocks", blocks)
    }
    override func callAsFunction(_ x: Tensor<Double>) -> Tensor<Double> { blocks(x) }
  }

  /// Names come from registration, nested and dotted; buffers are apart from parameters; the mode
  /// reaches every module. The order is PyTorch's `named_parameters()`: a module's own parameters,
  /// then its children's, module by module.
  @Test func moduleTreeNamesBuffersAndModes() {
    var rng = SeededGenerator(seed: 5)
    let net = Net(using: &rng)
    #expect(
      net.namedParameters.map(\.name) == [
        "blocks.0.scale", "blocks.0.attn.weight", "blocks.0.attn.bias",
        "blocks.1.scale", "blocks.1.attn.weight", "blocks.1.attn.bias",
      ])
    #expect(net.namedBuffers.map(\.name) == ["blocks.0.running_mean", "blocks.1.running_mean"])
    #expect(net.parameters.count == 6 && net.parameters.allSatisfy(\.requiresGrad))
    #expect(!net.namedBuffers.contains { $0.tensor.requiresGrad })
    #expect(net.stateDict().map(\.name).count == 8)
    net.eval()
    #expect(net.namedModules.allSatisfy { !$0.module.isTraining })
    net.train()
    #expect(net.namedModules.allSatisfy { $0.module.isTraining })
    let block = net.blocks.layers[0] as! Block
    let y = block(Tensor.ones([1, 2]), mask: MaskTensor([true, false]))
    #expect(y.shape == [1, 2])
  }

  @Test func registeringANameTwiceStops() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      let m = Module<Double>()
      m.registerParameter("w", Tensor.zeros([1]))
      m.registerBuffer("w", Tensor.zeros([1]))
    }
    #expect(Self.standardError(result).contains("already has an entry named \"w\""))
  }

  // MARK: Custom ops

  /// y = x³ as a user-defined op: ∂y/∂x = 3x², checked by finite differences.
  @Test func customOpPassesTheGradientCheck() {
    func cube(_ x: Tensor<Double>) -> Tensor<Double> {
      Tensor.custom("cube", inputs: [x]) { inputs in
        inputs[0].mapped { $0 * $0 * $0 }
      } pullback: { upstream, inputs, _ in
        [upstream.zip(inputs[0]) { g, x in g * 3 * x * x }]
      }
    }
    let x = Tensor<Double>([0.5, -1.5, 2], requiresGrad: true)
    #expect(checkGradients(of: { cube($0[0]) }, at: [x]).passed)
    cube(x).sum().backward()
    #expect(x.grad?.scalars == [0.75, 6.75, 12])
  }

  @Test func customOpWithAWrongGradientShapeStops() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      let x = Tensor<Double>([1, 2], requiresGrad: true)
      Tensor.custom("broken", inputs: [x]) { $0[0] } pullback: { _, _, _ in
        [Storage([1, 2, 3], shape: [3])]
      }.sum().backward()
    }
    let message = Self.standardError(result)
    #expect(message.contains("broken: the pullback returned a gradient of the wrong shape"), "\(message)")
  }

  // MARK: Small API fits

  @Test func arangeWithOneArgument() {
    #expect(Tensor<Float>.arange(6).scalars == [0, 1, 2, 3, 4, 5])
    #expect(Tensor<Double>.arange(1, 2, step: 0.25).scalars == [1, 1.25, 1.5, 1.75])
  }

  /// requireGrad mutates the leaf it is called on (and says so), returning the same object.
  @Test func requireGradMutatesInPlace() {
    let t = Tensor<Double>([1])
    let same = t.requireGrad()
    #expect(same === t && t.requiresGrad)
  }
}

extension Tensor where Scalar == Double {
  /// Gives a parameter a gradient without a backward pass, so that an optimizer step runs.
  func backwardless_fillGradient() { gradStorage = Storage(repeating: 1, shape: shape) }

  /// Zeroes the masked-out positions (a stand-in for masked_fill in a two-input forward).
  func maskedFillForTest(_ mask: MaskTensor) -> Tensor {
    self * Tensor(mask.broadcast(to: shape))
  }
}
