/// A scalar that remembers how it was computed, so that ``backward()`` can find the derivative of
/// it with respect to every value it depends on: micrograd's `Value`, in Swift.
///
/// ```swift
/// let x = Value(-4)
/// let y = (2 * x + 2).relu() + x * x     // y = relu(2x + 2) + x²
/// y.backward()
/// print(y.data, x.grad)                  // 16.0  -8.0   (dy/dx = 2x = -8, relu is off)
/// ```
///
/// ## Layout
/// A node is one small object: its value, its gradient, an ``Op`` tag saying which op made it, and
/// at most two inputs stored inline (`lhs`, `rhs`). A `Double` operand (`x + 2`, `x * 3`, `x ** 2`)
/// is stored in the node as `constant` instead of being wrapped in a leaf `Value` as micrograd does;
/// its gradient would be thrown away anyway. There is no closure, array, set or dictionary per
/// node: the backward pass is one `switch` over ``Op`` (see `Value+Backward.swift`).
///
/// ## Memory
/// A node holds its inputs strongly and nothing else, so the graph is a DAG with no cycles and is
/// freed when the last reference to its result goes. Freeing a long chain does not recurse (see
/// `deinit`).
public final class Value {
  /// The number this node holds. Optimizers change it in place: `p.data -= lr * p.grad`.
  public var data: Double
  /// ∂L/∂self, accumulated by ``backward()`` on some `L` that depends on this value.
  public var grad: Double = 0

  /// The op that made this value; ``Op/leaf`` for an input or parameter.
  let op: Op
  /// The `Double` operand of ``Op/addConstant``, ``Op/multiplyConstant`` and ``Op/power``.
  let constant: Double
  /// The first input of the op, nil for a leaf. `var` only so that `deinit` can unlink it.
  var lhs: Value?
  /// The second input of a binary op, nil otherwise.
  var rhs: Value?
  /// Marks a node already placed in the topological order during one ``backward()`` call; every
  /// marked node is unmarked again before `backward()` returns.
  var isVisited = false

  /// A leaf: an input or a parameter.
  public init(_ data: Double) {
    self.data = data
    self.op = .leaf
    self.constant = 0
  }

  /// The result of `op` applied to `lhs` (and `rhs`, or `constant`).
  @inline(__always)
  init(_ data: Double, _ op: Op, _ lhs: Value, _ rhs: Value? = nil, constant: Double = 0) {
    self.data = data
    self.op = op
    self.lhs = lhs
    self.rhs = rhs
    self.constant = constant
  }

  /// Frees the inputs without recursion. The default release of a chain `a → b → c → …` calls one
  /// `deinit` inside the other and overflows the stack after about 100,000 links. Instead, inputs
  /// that nothing else holds are unlinked here and moved to an explicit stack; each of them is
  /// emptied the same way before it dies, so its own `deinit` has nothing left to free.
  deinit {
    guard lhs != nil else { return }
    var pending = ContiguousArray<Value>()
    Value.moveUniquelyHeldInputs(of: self, to: &pending)
    while let node = pending.popLast() {
      Value.moveUniquelyHeldInputs(of: node, to: &pending)
    }
  }

  /// Unlinks `node`'s inputs; those with no other owner are appended to `pending` (which then
  /// holds their only reference) so the caller frees them one at a time.
  @inline(__always)
  private static func moveUniquelyHeldInputs(of node: Value, to pending: inout ContiguousArray<Value>) {
    if var input = node.lhs {
      node.lhs = nil
      if isKnownUniquelyReferenced(&input) { pending.append(input) }
    }
    if var input = node.rhs {
      node.rhs = nil
      if isKnownUniquelyReferenced(&input) { pending.append(input) }
    }
  }

  /// Sets ``grad`` to zero. (`Module.zeroGrad()` does this for every parameter.)
  public func zeroGrad() { grad = 0 }

  /// The inputs of the op that made this value (micrograd's `_prev`); empty for a leaf. Constant
  /// operands are not values and are not listed.
  public var children: [Value] { [lhs, rhs].compactMap { $0 } }

  /// The name of the op that made this value (micrograd's `_op`), e.g. `"*"`, `"relu"`; `""` for a leaf.
  public var operation: String { op.symbol }
}

extension Value: CustomStringConvertible {
  public var description: String { "Value(data=\(data), grad=\(grad))" }
}
