extension Tensor {
  /// Computes the gradient of this tensor with respect to every leaf that requires grad, and adds it
  /// to that leaf's ``grad``.
  ///
  /// - Parameters:
  ///   - gradient: the upstream gradient ∂L/∂self, of this tensor's shape. May be omitted only for a
  ///     tensor with one element, where it is 1.
  ///   - retainGraph: keep the graph for another backward pass. By default, as PyTorch without
  ///     `retain_graph`, each node drops its pullback (and with it the values it saved) and its inputs
  ///     once it has been used, so a loss kept after backward (`history.append(loss)`) holds no
  ///     activations. A second backward through a released graph stops with a message.
  ///   - onLeafGradientReady: called once for each leaf that requires grad and that this graph
  ///     reaches, as soon as this pass has added everything it will add to the leaf's gradient
  ///     (after the last pullback that feeds it), while the rest of the pass still runs: PyTorch's
  ///     post-accumulate-grad hook. Data-parallel training starts the gradients' allreduce from it
  ///     (see `AwesomegradDistributed`). A leaf given no gradient on the way (an unused branch) is
  ///     still reported, at the point where its last consumer is passed.
  ///   - file: the caller's file (`#fileID`), named in error messages.
  ///   - line: the caller's line.
  ///
  /// Gradients accumulate across calls until ``zeroGrad()``. The walk is iterative, so graphs of any
  /// depth work. Intermediate gradients are dropped as soon as they have been propagated.
  ///
  /// Before a node's pullback runs, the versions of its inputs and output are compared with those
  /// recorded by the forward pass; a tensor modified in place in between (an optimizer step between
  /// forward and backward) stops the pass with the op's name and shapes, instead of silently giving
  /// gradients of the new values.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func backward(
    gradient: Tensor? = nil, retainGraph: Bool = false, file: StaticString = #fileID, line: UInt = #line,
    onLeafGradientReady: ((Tensor) -> Void)? = nil
  ) {
    let seed: Storage<Scalar>
    if let gradient {
      if gradient.shape != shape {
        shapeFailure(
          "backward", "the gradient must have the tensor's shape", shapes: [shape, gradient.shape],
          file: file, line: line)
      }
      seed = gradient.storage
    } else {
      if count != 1 {
        shapeFailure(
          "backward", "backward() without a gradient needs a tensor with one element; pass gradient:",
          shapes: [shape], file: file, line: line)
      }
      seed = Storage(repeating: 1, shape: shape)
    }
    if isReleased { releasedGraphFailure(self, file: file, line: line) }
    guard requiresGrad else {
      shapeFailure(
        "backward", "the tensor does not require grad: no parameter with requiresGrad led to it",
        shapes: [shape], file: file, line: line)
    }
    accumulateGrad(seed)
    let order = topologicalOrder(file: file, line: line)
    var readiness = onLeafGradientReady.map { LeafReadiness(order: order, root: self, hook: $0) }
    for node in order.reversed() {
      defer { readiness?.passed(node) }
      guard let pullback = node.pullback, let upstream = node.gradStorage else { continue }
      node.gradStorage = nil  // an interior node's gradient is not kept
      node.checkSavedVersions(file: file, line: line)
      if let region = node.sliceRegion, node.parents[0].requiresGrad {
        // A slice adds its gradient into its region of the parent's: the size of the slice, not of
        // the parent (the pullback, which pads with zeros, serves retained graphs run by hand).
        node.parents[0].accumulateSliceGrad(upstream, region: region)
        if !retainGraph { node.release() }
        continue
      }
      // `upstream` is handed over, so a gradient passed through unchanged stays uniquely owned.
      var parentGradients = pullback(consume upstream, nil)
      for i in parentGradients.indices {
        // Moved out, so that the receiving leaf can tell whether anyone else holds g.
        guard let g = parentGradients[i].take() else { continue }
        let parent = node.parents[i]
        if parent.requiresGrad { parent.accumulateGrad(consume g) }
      }
      if !retainGraph { node.release() }
    }
  }

  /// Drops the pullback and the inputs after a backward pass used them.
  @inline(__always)
  func release() {
    pullback = nil
    parents = []
    isReleased = true
  }

  /// Stops if an input or the output of this node was modified in place since the forward pass.
  @inline(__always)
  func checkSavedVersions(file: StaticString, line: UInt) {
    let current = storage.buffer.version &+ versionSum(parents)
    guard current != savedVersion else { return }
    let inputs = parents.map { "\($0.shape)" }.joined(separator: ", ")
    fatalError(
      "backward: a tensor that \(op)'s gradient needs was modified by an in-place operation after the "
        + "forward pass (inputs \(inputs), output \(shape)); its version is \(current), expected "
        + "\(savedVersion). Call backward() before optimizer.step() or updateValues, or modify a clone(). "
        + "(backward called at \(file):\(line))", file: file, line: line)
  }

  /// The interior nodes of the graph ending here, each after all of its parents (inputs).
  /// Built with an explicit stack instead of recursion. Nodes are marked with `isVisited` during the
  /// walk (cheaper than hashing them into a set) and unmarked before it returns. A node released by
  /// an earlier backward pass stops the walk with a message.
  func topologicalOrder(file: StaticString = #fileID, line: UInt = #line) -> [Tensor] {
    var order: [Tensor] = []
    var stack: [(node: Tensor, nextParent: Int)] = [(self, 0)]
    isVisited = true
    while let (node, next) = stack.popLast() {
      if next < node.parents.count {
        stack.append((node, next + 1))
        let parent = node.parents[next]
        if parent.isReleased && parent.requiresGrad { releasedGraphFailure(parent, file: file, line: line) }
        if parent.pullback != nil && !parent.isVisited {
          parent.isVisited = true
          stack.append((parent, 0))
        }
      } else if node.pullback != nil {
        order.append(node)
      }
    }
    isVisited = false
    for node in order { node.isVisited = false }
    return order
  }
}

/// Stops for a backward pass through a graph that an earlier backward pass released.
func releasedGraphFailure<Scalar>(_ node: Tensor<Scalar>, file: StaticString, line: UInt) -> Never {
  fatalError(
    "backward: trying to backpropagate through the graph a second time: the node made by "
      + "\(node.op) (shape \(node.shape)) was released by an earlier backward(). Pass "
      + "backward(retainGraph: true) to the first call to keep the graph. (at \(file):\(line))",
    file: file, line: line)
}

/// The bookkeeping behind `backward(onLeafGradientReady:)`: how many edges of the graph still lead
/// into each leaf that requires grad. A leaf is ready when the pass has gone past the last node
/// that reads it (its count reaches 0).
struct LeafReadiness<Scalar: TensorScalar> {
  private var pending: [ObjectIdentifier: Int] = [:]
  /// Each node's leaf inputs, recorded before the pass releases the node's inputs.
  private var leafInputs: [ObjectIdentifier: [Tensor<Scalar>]] = [:]
  private let hook: (Tensor<Scalar>) -> Void

  init(order: [Tensor<Scalar>], root: Tensor<Scalar>, hook: @escaping (Tensor<Scalar>) -> Void) {
    self.hook = hook
    if root.pullback == nil {
      hook(root)  // backward on a leaf: its gradient (the seed) is already final
      return
    }
    for node in order {
      let leaves = node.parents.filter { $0.requiresGrad && $0.pullback == nil }
      guard !leaves.isEmpty else { continue }
      leafInputs[ObjectIdentifier(node)] = leaves
      for leaf in leaves { pending[ObjectIdentifier(leaf), default: 0] += 1 }
    }
  }

  /// Called after `node`'s pullback ran (or was skipped): reports the leaves it was the last reader of.
  mutating func passed(_ node: Tensor<Scalar>) {
    guard let leaves = leafInputs.removeValue(forKey: ObjectIdentifier(node)) else { return }
    for leaf in leaves {
      let key = ObjectIdentifier(leaf)
      let remaining = pending[key]! - 1
      pending[key] = remaining
      if remaining == 0 { hook(leaf) }
    }
  }
}
