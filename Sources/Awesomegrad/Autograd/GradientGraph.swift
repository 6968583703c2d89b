/// Gradients of gradients: backward passes that record their own graph (`createGraph`).
///
/// Every op keeps one pullback closure, which serves two kinds of pass:
/// - the ordinary backward pass calls it with `nil`: it computes the inputs' gradients on
///   ``Storage`` with plain kernels, records nothing and allocates nothing for the second mode;
/// - a pass with `createGraph` calls it with a ``GradientGraph``: the same closure then writes its
///   derivative with differentiable ``Tensor`` ops over the gradient, the op's inputs (its
///   `parents`, which carry their own graphs) and its output, and hands the result to
///   ``GradientGraph/record(_:)``. The gradients it returns are tensors with a graph, so they can be
///   differentiated again, to any order.
///
/// ```swift
/// return Tensor(y, op: "exp", parents: [self]) { g, graph in
///   if let graph { return graph.record { g, _, y in [g * y] } }   // ∂/∂x = g·eˣ, as tensor ops
///   return [g.zipSameShape(y, *)]                                 // the same on storage
/// }
/// ```
extension Tensor {
  /// An op's pullback: `(∂L/∂output, nil)` → `[∂L/∂input]` on storage, or, given a
  /// ``GradientGraph``, the same gradients recorded as tensor ops (and `[]` returned).
  typealias Pullback = (_ upstream: Storage<Scalar>, _ graph: GradientGraph<Scalar>?) -> [Storage<Scalar>?]
}

/// What an op's pullback receives in a backward pass with `createGraph`: the upstream gradient as a
/// tensor with a graph, and the node, whose `parents` are the op's inputs and which is itself the
/// op's output (so that a derivative written with the output, such as eˣ's, differentiates through
/// it again).
final class GradientGraph<Scalar: TensorScalar> {
  /// ∂L/∂output, a tensor that may carry a graph.
  let upstream: Tensor<Scalar>
  /// The op's output; its `parents` are the inputs.
  let node: Tensor<Scalar>
  /// What the pullback recorded: one gradient per input, nil where an input gets none.
  var gradients: [Tensor<Scalar>?]?
  /// Per input: whether the pass needs its gradient (it leads to a wanted tensor). An op skips the
  /// others, as PyTorch's `autograd.grad` computes only what leads to its inputs.
  let wanted: [Bool]

  init(upstream: Tensor<Scalar>, node: Tensor<Scalar>, wanted: [Bool]) {
    self.upstream = upstream
    self.node = node
    self.wanted = wanted
  }

  /// Whether the pass needs the gradient of input `i`.
  @inline(__always) func wants(_ i: Int) -> Bool { wanted[i] }

  /// Records the op's gradients, written with tensor ops: `formula(g, inputs, output)` returns
  /// ∂L/∂inputs[i] for each input (nil for none). Returns `[]`, the pullback's storage result in
  /// this mode.
  func record(
    _ formula: (_ g: Tensor<Scalar>, _ inputs: [Tensor<Scalar>], _ output: Tensor<Scalar>) -> [Tensor<
      Scalar
    >?]
  ) -> [Storage<Scalar>?] {
    // An input the pass does not need gets nil, whatever the formula computed for it.
    gradients = zip(formula(upstream, node.parents, node), wanted).map { $1 ? $0 : nil }
    return []
  }

  /// Records the op's gradients by differentiating `composite`: the same function as the op, written
  /// with differentiable ops (for fused primitives such as layer norm or attention, whose
  /// derivative is simplest to take through their definition). `composite` runs on the op's inputs,
  /// and its gradients are taken with a graph, stopping at those inputs (the op's own Jacobian).
  func recordThrough(_ composite: (_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar>) -> [Storage<Scalar>?] {
    let inputs = node.parents
    let output = composite(inputs)
    let wanted = inputs.indices.filter { self.wanted[$0] }.map { inputs[$0] }
    let found = gradientPass(
      from: output, seed: upstream, targets: wanted, createGraph: true, retainGraph: true,
      stopAtTargets: true, file: #fileID, line: #line)
    var byInput: [ObjectIdentifier: Tensor<Scalar>] = [:]
    for (input, gradient) in zip(wanted, found) { byInput[ObjectIdentifier(input)] = gradient }
    // An input passed twice (x·x) gets its whole gradient once.
    gradients = inputs.indices.map {
      self.wanted[$0] ? byInput.removeValue(forKey: ObjectIdentifier(inputs[$0])) : nil
    }
    return []
  }
}

extension Tensor {
  /// Computes the gradient of this tensor with respect to every leaf that requires grad, as
  /// ``backward(gradient:retainGraph:file:line:onLeafGradientReady:)`` does, and with
  /// `createGraph: true` records the pass itself: each leaf's ``grad`` is then a tensor with a
  /// graph of its own (PyTorch's `backward(create_graph=True)`), which can be differentiated again.
  ///
  /// ```swift
  /// let x = Tensor<Double>([3], shape: [1]).requireGrad()
  /// let y = (x * x * x).sum()          // y = x³
  /// y.backward(createGraph: true)      // x.grad = 3x² = 27, with a graph
  /// let dydx = x.grad!
  /// x.zeroGrad()
  /// dydx.sum().backward()              // x.grad = 6x = 18
  /// ```
  ///
  /// - Parameters:
  ///   - gradient: the upstream gradient ∂L/∂self (it may itself require grad); omitted only for a
  ///     tensor with one element, where it is 1.
  ///   - createGraph: record the pass, so that the gradients can be differentiated. `false` runs the
  ///     ordinary pass.
  ///   - retainGraph: keep the graph for another pass; by default, as in PyTorch, the graph is kept
  ///     exactly when `createGraph` is on (the new graph refers to it).
  ///   - file: the caller's file (`#fileID`), named in error messages.
  ///   - line: the caller's line.
  ///
  /// Under `createGraph`, an op whose pullback has no differentiable form stops with its name.
  public func backward(
    gradient: Tensor? = nil, createGraph: Bool, retainGraph: Bool? = nil, file: StaticString = #fileID,
    line: UInt = #line
  ) {
    guard createGraph else {
      backward(gradient: gradient, retainGraph: retainGraph ?? false, file: file, line: line)
      return
    }
    let seed = seedGradient(gradient, op: "backward", file: file, line: line)
    guard requiresGrad else {
      shapeFailure(
        "backward", "the tensor does not require grad: no parameter with requiresGrad led to it",
        shapes: [shape], file: file, line: line)
    }
    var leaves: [Tensor] = []
    if pullback == nil { leaves = [self] }
    for node in topologicalOrder(file: file, line: line) {
      for parent in node.parents where parent.requiresGrad && parent.pullback == nil && !parent.isVisited {
        parent.isVisited = true
        leaves.append(parent)
      }
    }
    for leaf in leaves { leaf.isVisited = false }
    let found = gradientPass(
      from: self, seed: seed, targets: leaves, createGraph: true, retainGraph: retainGraph ?? true,
      stopAtTargets: false, file: file, line: line)
    for (leaf, gradient) in zip(leaves, found) { leaf.accumulateGradientWithGraph(gradient) }
  }

  /// Adds `gradient` (which may carry a graph) to a leaf's gradient, keeping the graph.
  func accumulateGradientWithGraph(_ gradient: Tensor) {
    let total = gradStorage.map { existing in (grad ?? Tensor(existing)) + gradient } ?? gradient
    gradStorage = total.storage
    gradientWithGraph = total
  }

  /// `gradient`, checked against this tensor's shape, or 1 for a tensor of one element.
  func seedGradient(_ gradient: Tensor?, op: String, file: StaticString, line: UInt) -> Tensor {
    if let gradient {
      if gradient.shape != shape {
        shapeFailure(
          op, "the gradient must have the tensor's shape", shapes: [shape, gradient.shape], file: file,
          line: line)
      }
      return gradient
    }
    if count != 1 {
      shapeFailure(
        op, "a tensor with more than one element needs an upstream gradient; pass gradient:",
        shapes: [shape], file: file, line: line)
    }
    return Tensor(Storage(repeating: 1, shape: shape))
  }

  /// The interior nodes between this tensor and `stops` (not descending into a stop), each after its
  /// parents: ``topologicalOrder(file:line:)`` that treats the stops as leaves.
  func topologicalOrder(stoppingAt stops: Set<ObjectIdentifier>, file: StaticString, line: UInt) -> [Tensor] {
    var order: [Tensor] = []
    var visited: Set<ObjectIdentifier> = [ObjectIdentifier(self)]
    if stops.contains(ObjectIdentifier(self)) { return [] }
    var stack: [(node: Tensor, nextParent: Int)] = [(self, 0)]
    while let (node, next) = stack.popLast() {
      if next < node.parents.count {
        stack.append((node, next + 1))
        let parent = node.parents[next]
        let id = ObjectIdentifier(parent)
        if stops.contains(id) { continue }
        if parent.isReleased && parent.requiresGrad { releasedGraphFailure(parent, file: file, line: line) }
        if parent.pullback != nil && !visited.contains(id) {
          visited.insert(id)
          stack.append((parent, 0))
        }
      } else if node.pullback != nil {
        order.append(node)
      }
    }
    return order
  }
}

/// The gradients of `root` (seeded with `seed`) with respect to `targets`, zeros for a target the
/// graph does not reach. With `createGraph`, every pullback records its derivative as tensor ops
/// (recording on even inside ``withoutGrad(_:)-5c1h3``), so the results carry graphs; otherwise the
/// storage pullbacks run and the results are constants. Leaves' ``Tensor/grad`` is not touched.
/// `stopAtTargets` does not descend past a target (an op's own Jacobian, for
/// ``GradientGraph/recordThrough(_:)``).
func gradientPass<Scalar: TensorScalar>(
  from root: Tensor<Scalar>, seed: Tensor<Scalar>, targets: [Tensor<Scalar>], createGraph: Bool,
  retainGraph: Bool, stopAtTargets: Bool, file: StaticString, line: UInt
) -> [Tensor<Scalar>] {
  let targetIDs = Set(targets.map(ObjectIdentifier.init))
  var gradients: [ObjectIdentifier: Tensor<Scalar>] = [ObjectIdentifier(root): seed]
  if root.isReleased { releasedGraphFailure(root, file: file, line: line) }
  let order =
    stopAtTargets
    ? root.topologicalOrder(stoppingAt: targetIDs, file: file, line: line)
    : root.topologicalOrder(stoppingAt: [], file: file, line: line)
  // The tensors whose gradient leads to a target (parents come first in `order`): only their
  // gradients are computed and kept.
  var leadsToTarget = targetIDs
  for node in order where !leadsToTarget.contains(ObjectIdentifier(node)) {
    if node.parents.contains(where: { leadsToTarget.contains(ObjectIdentifier($0)) }) {
      leadsToTarget.insert(ObjectIdentifier(node))
    }
  }
  var state = GradMode.state
  state.recordsGraph = createGraph
  state.backwardPass += 1
  GradMode.$state.withValue(state) {
    for node in order.reversed() {
      let id = ObjectIdentifier(node)
      guard let pullback = node.pullback, let upstream = gradients[id] else { continue }
      if !leadsToTarget.contains(id) { continue }
      if !targetIDs.contains(id) { gradients[id] = nil }  // an interior gradient is not kept
      node.checkSavedVersions(file: file, line: line)
      let inputGradients: [Tensor<Scalar>?]
      if createGraph {
        let wanted = node.parents.map { $0.requiresGrad && leadsToTarget.contains(ObjectIdentifier($0)) }
        let graph = GradientGraph(upstream: upstream, node: node, wanted: wanted)
        _ = pullback(upstream.storage, graph)
        guard let recorded = graph.gradients else { noDoubleBackwardFailure(node, file: file, line: line) }
        if recorded.count != node.parents.count {
          shapeFailure(
            "\(node.op)",
            "its pullback returned \(recorded.count) gradients for \(node.parents.count) inputs",
            shapes: node.parents.map(\.shape), file: file, line: line)
        }
        inputGradients = recorded
      } else {
        inputGradients = pullback(upstream.storage, nil).map { $0.map { Tensor($0) } }
      }
      for (i, gradient) in inputGradients.enumerated() {
        guard let gradient, i < node.parents.count else { continue }
        let parent = node.parents[i]
        let key = ObjectIdentifier(parent)
        guard parent.requiresGrad, leadsToTarget.contains(key) else { continue }
        if gradient.shape != parent.shape {
          shapeFailure(
            "\(node.op)", "its pullback returned a gradient of the wrong shape",
            shapes: [gradient.shape, parent.shape], file: file, line: line)
        }
        gradients[key] = gradients[key].map { $0 + gradient } ?? gradient
      }
      if !retainGraph { node.release() }
    }
  }
  return targets.map { gradients[ObjectIdentifier($0)] ?? Tensor(Storage(repeating: 0, shape: $0.shape)) }
}

/// Stops a pass with `createGraph` at an op whose pullback works on storage only.
func noDoubleBackwardFailure<Scalar>(_ node: Tensor<Scalar>, file: StaticString, line: UInt) -> Never {
  fatalError(
    "backward(createGraph: true): \(node.op) (output \(node.shape), inputs "
      + "\(node.parents.map { "\($0.shape)" }.joined(separator: ", "))) has no differentiable pullback, so "
      + "its gradient cannot be differentiated again. Write a custom op whose pullback uses Tensor ops "
      + "(Tensor.custom(_:inputs:forward:pullback:)) or keep this op out of the differentiated gradient. "
      + "(at \(file):\(line))", file: file, line: line)
}

/// The gradients of `output` with respect to `inputs`, returned as tensors (PyTorch's
/// `torch.autograd.grad`); the inputs' ``Tensor/grad`` is not touched.
///
/// ```swift
/// // u(x) = x³: the first and the second derivative.
/// let x = Tensor<Double>([2], shape: [1]).requireGrad()
/// let u = x * x * x
/// let du = gradients(of: u.sum(), at: [x], createGraph: true)[0]   // 3x² = 12, with a graph
/// let d2u = gradients(of: du.sum(), at: [x])[0]                     // 6x = 12
/// ```
///
/// - Parameters:
///   - output: the tensor to differentiate.
///   - inputs: tensors of `output`'s graph (leaves or intermediate results).
///   - gradient: ∂L/∂output (it may require grad); omitted only when `output` has one element.
///   - createGraph: record the pass, so that the results can be differentiated again.
///   - retainGraph: keep `output`'s graph for another pass; by default exactly when `createGraph`.
///   - file: the caller's file (`#fileID`), named in error messages.
///   - line: the caller's line.
/// - Returns: ∂L/∂inputs[i] of inputs[i]'s shape, zeros where the graph does not reach an input.
public func gradients<Scalar: TensorScalar>(
  of output: Tensor<Scalar>, at inputs: [Tensor<Scalar>], gradient: Tensor<Scalar>? = nil,
  createGraph: Bool = false, retainGraph: Bool? = nil, file: StaticString = #fileID, line: UInt = #line
) -> [Tensor<Scalar>] {
  let seed = output.seedGradient(gradient, op: "gradients", file: file, line: line)
  guard output.requiresGrad else {
    return inputs.map { Tensor(Storage(repeating: 0, shape: $0.shape)) }
  }
  return gradientPass(
    from: output, seed: seed, targets: inputs, createGraph: createGraph,
    retainGraph: retainGraph ?? createGraph, stopAtTargets: false, file: file, line: line)
}
