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
      order[index]._withUnsafeGuaranteedRef { node in
        node.isVisited = false
        node.propagateGradientToInputs()
      }
    }
  }

  /// The nodes made by ops (leaves have nothing to propagate and are left out), each after its
  /// inputs: the order of micrograd's recursive `build_topo`, built with an explicit stack.
  ///
  /// As in the recursion, a node is marked visited when it is expanded, not when it is pushed: a
  /// node pushed as a second input may be reached first through the first input's subgraph, and it
  /// must then be emitted there, before the nodes that use it.
  ///
  /// The nodes are held unretained: `self` keeps the whole graph alive while `backward()` runs.
  /// Marks every node it returns as visited; the caller must unmark them.
  private func interiorNodesInTopologicalOrder() -> ContiguousArray<Unmanaged<Value>> {
    var order = ContiguousArray<Unmanaged<Value>>()
    guard !origin.isLeaf else { return order }
    // A stack entry is a node to expand (inputs not yet pushed) or, once expanded, to emit.
    var stack = ContiguousArray<(node: Unmanaged<Value>, isExpanded: Bool)>()
    stack.append((Unmanaged.passUnretained(self), false))
    while let (entry, isExpanded) = stack.popLast() {
      if isExpanded {
        order.append(entry)
        continue
      }
      // A node can be pushed twice (by two users) before it is expanded; expand it once.
      let inputs = entry._withUnsafeGuaranteedRef { node -> (Unmanaged<Value>?, Unmanaged<Value>?)? in
        if node.isVisited { return nil }
        node.isVisited = true
        return node.origin.inputs
      }
      guard let (first, second) = inputs else { continue }
      let expandFirst = first?.isUnvisitedInterior ?? false
      let expandSecond = second?.isUnvisitedInterior ?? false
      guard expandFirst || expandSecond else {
        order.append(entry)  // nothing left to explore below: emit at once
        continue
      }
      stack.append((entry, true))
      // Push the second input first so that the first is explored first, as the recursion would.
      if expandSecond { stack.append((second.unsafelyUnwrapped, false)) }
      if expandFirst { stack.append((first.unsafelyUnwrapped, false)) }
    }
    return order
  }

  /// The chain rule for one node: adds `grad · ∂self/∂input` to each input's `grad`.
  @inline(__always)
  private func propagateGradientToInputs() {
    let g = grad
    switch origin {
    case .leaf:
      break
    case .add(let a, let b):  // ∂(a + b)/∂a = ∂(a + b)/∂b = 1
      a._withUnsafeGuaranteedRef { $0.grad += g }
      b._withUnsafeGuaranteedRef { $0.grad += g }
    case .multiply(let a, let b):  // ∂(ab)/∂a = b,  ∂(ab)/∂b = a
      let (aData, bData) = (a._withUnsafeGuaranteedRef { $0.data }, b._withUnsafeGuaranteedRef { $0.data })
      a._withUnsafeGuaranteedRef { $0.grad += bData * g }
      b._withUnsafeGuaranteedRef { $0.grad += aData * g }
    case .addConstant(let a, _):  // ∂(a + c)/∂a = 1
      a._withUnsafeGuaranteedRef { $0.grad += g }
    case .multiplyConstant(let a, let c):  // ∂(ac)/∂a = c
      a._withUnsafeGuaranteedRef { $0.grad += c * g }
    case .power(let a, let c):  // ∂aᶜ/∂a = c · aᶜ⁻¹
      a._withUnsafeGuaranteedRef { $0.grad += (c * power($0.data, c - 1)) * g }
    case .relu(let a):  // ∂relu(a)/∂a = 0 where relu(a) ≤ 0, else 1; NaN passes g, as in PyTorch
      if !(data <= 0) { a._withUnsafeGuaranteedRef { $0.grad += g } }
    case .tanh(let a):  // ∂tanh(a)/∂a = 1 − tanh²(a)
      let t = data
      a._withUnsafeGuaranteedRef { $0.grad += (1 - t * t) * g }
    case .exp(let a):  // ∂eᵃ/∂a = eᵃ
      let e = data
      a._withUnsafeGuaranteedRef { $0.grad += e * g }
    case .log(let a):  // ∂ln(a)/∂a = 1/a
      a._withUnsafeGuaranteedRef { $0.grad += g / $0.data }
    case .sigmoid(let a):  // ∂σ(a)/∂a = σ(a)(1 − σ(a))
      let s = data
      a._withUnsafeGuaranteedRef { $0.grad += s * (1 - s) * g }
    }
  }
}

extension Unmanaged<Value> {
  /// Whether the node is made by an op and not yet expanded by the topological sort.
  @inline(__always)
  fileprivate var isUnvisitedInterior: Bool {
    _withUnsafeGuaranteedRef { !$0.isVisited && !$0.origin.isLeaf }
  }
}
