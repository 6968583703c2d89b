/// Reverse-mode differentiation over the graph of ``Value`` nodes: one topological sort, then one
/// sweep from the output back to the leaves applying the chain rule, op by op.
extension Value {
  /// Computes ∂self/∂v for every value `v` this one depends on, and adds it to `v.grad`.
  ///
  /// Sets `self.grad = 1`, then visits the nodes in reverse topological order (every node after all
  /// the nodes that use it), adding each node's `grad` times its local derivative into its inputs'
  /// `grad`. A value used twice receives both contributions. Gradients accumulate across calls:
  /// reset parameters with ``zeroGrad()`` (or `Module.zeroGrad()`) between steps.
  ///
  /// Both the sort and the sweep are loops, not recursion, so a graph a million ops deep works.
  public func backward() {
    let order = interiorNodesInTopologicalOrder()
    grad = 1
    var index = order.count
    while index > 0 {
      index -= 1
      let node = order[index].takeUnretainedValue()
      node.isVisited = false
      node.propagateGradientToInputs()
    }
  }

  /// The nodes made by ops (leaves have nothing to propagate and are left out), each after its
  /// inputs: the order of micrograd's recursive `build_topo`, built with an explicit stack.
  ///
  /// The nodes are held unretained: `self` keeps the whole graph alive while `backward()` runs, and
  /// skipping a retain/release per node makes the walk about twice as fast. Marks every node it
  /// returns as visited; the caller must unmark them.
  private func interiorNodesInTopologicalOrder() -> ContiguousArray<Unmanaged<Value>> {
    var order = ContiguousArray<Unmanaged<Value>>()
    guard op != .leaf else { return order }
    // A stack entry is a node to expand (inputs not yet pushed) or, once expanded, to emit.
    var stack = ContiguousArray<(node: Unmanaged<Value>, isExpanded: Bool)>()
    isVisited = true
    stack.append((Unmanaged.passUnretained(self), false))
    while let (entry, isExpanded) = stack.popLast() {
      if isExpanded {
        order.append(entry)
        continue
      }
      let node = entry.takeUnretainedValue()
      stack.append((entry, true))
      // Push rhs first so lhs is explored first, as the recursion would.
      if let input = node.rhs, input.op != .leaf, !input.isVisited {
        input.isVisited = true
        stack.append((Unmanaged.passUnretained(input), false))
      }
      if let input = node.lhs, input.op != .leaf, !input.isVisited {
        input.isVisited = true
        stack.append((Unmanaged.passUnretained(input), false))
      }
    }
    return order
  }

  /// The chain rule for one node: adds `grad · ∂self/∂input` to each input's `grad`.
  @inline(__always)
  private func propagateGradientToInputs() {
    let g = grad
    switch op {
    case .leaf:
      break
    case .add:  // ∂(a + b)/∂a = ∂(a + b)/∂b = 1
      lhs.unsafelyUnwrapped.grad += g
      rhs.unsafelyUnwrapped.grad += g
    case .multiply:  // ∂(ab)/∂a = b,  ∂(ab)/∂b = a
      let a = lhs.unsafelyUnwrapped, b = rhs.unsafelyUnwrapped
      a.grad += b.data * g
      b.grad += a.data * g
    case .addConstant:  // ∂(a + c)/∂a = 1
      lhs.unsafelyUnwrapped.grad += g
    case .multiplyConstant:  // ∂(ac)/∂a = c
      lhs.unsafelyUnwrapped.grad += constant * g
    case .power:  // ∂aᶜ/∂a = c · aᶜ⁻¹
      let a = lhs.unsafelyUnwrapped
      a.grad += (constant * power(a.data, constant - 1)) * g
    case .relu:  // ∂relu(a)/∂a = [relu(a) > 0]
      if data > 0 { lhs.unsafelyUnwrapped.grad += g }
    case .tanh:  // ∂tanh(a)/∂a = 1 − tanh²(a)
      lhs.unsafelyUnwrapped.grad += (1 - data * data) * g
    case .exp:  // ∂eᵃ/∂a = eᵃ
      lhs.unsafelyUnwrapped.grad += data * g
    case .log:  // ∂ln(a)/∂a = 1/a
      let a = lhs.unsafelyUnwrapped
      a.grad += g / a.data
    case .sigmoid:  // ∂σ(a)/∂a = σ(a)(1 − σ(a))
      lhs.unsafelyUnwrapped.grad += data * (1 - data) * g
    }
  }
}
