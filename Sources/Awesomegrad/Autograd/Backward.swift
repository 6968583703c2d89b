extension Tensor {
  /// Computes the gradient of this tensor with respect to every leaf that requires grad, and adds it
  /// to that leaf's ``grad``.
  ///
  /// - Parameter gradient: the upstream gradient ∂L/∂self, of this tensor's shape. May be omitted
  ///   only for a tensor with one element, where it is 1.
  ///
  /// Gradients accumulate across calls until ``zeroGrad()``. The walk is iterative, so graphs of any
  /// depth work. Intermediate gradients are dropped as soon as they have been propagated.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func backward(gradient: Tensor? = nil, file: StaticString = #fileID, line: UInt = #line) {
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
    guard requiresGrad else {
      shapeFailure(
        "backward", "the tensor does not require grad: no parameter with requiresGrad led to it",
        shapes: [shape], file: file, line: line)
    }
    accumulateGrad(seed)
    for node in topologicalOrder().reversed() {
      guard let pullback = node.pullback, let upstream = node.gradStorage else { continue }
      node.gradStorage = nil  // an interior node's gradient is not kept
      let parentGradients = pullback(upstream)
      for (parent, g) in zip(node.parents, parentGradients) where parent.requiresGrad {
        if let g { parent.accumulateGrad(g) }
      }
    }
  }

  /// The interior nodes of the graph ending here, each after all of its parents (inputs).
  /// Built with an explicit stack instead of recursion. Nodes are marked with `isVisited` during the
  /// walk (cheaper than hashing them into a set) and unmarked before it returns.
  func topologicalOrder() -> [Tensor] {
    var order: [Tensor] = []
    var stack: [(node: Tensor, nextParent: Int)] = [(self, 0)]
    isVisited = true
    while let (node, next) = stack.popLast() {
      if next < node.parents.count {
        stack.append((node, next + 1))
        let parent = node.parents[next]
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
