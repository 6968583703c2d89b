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
/// A node is one small object (49 bytes, a 64-byte allocation): its value, its gradient, a mark
/// used by the topological sort, and its `Origin`: the op that made it with its inputs (at most
/// two) or constant operand stored inline. There is no closure, array, set or dictionary per node.
///
/// The stored properties are marked `@exclusivity(unchecked)`: the backward pass reads and writes
/// `data` and `grad` of some 65,000 nodes per training step of micrograd's demo, and Swift's
/// run-time check that no two accesses to a class property overlap cost more than the arithmetic.
/// Nothing in the engine holds an access open across another (no `inout` of these fields escapes).
///
/// ## Memory
/// A node holds its inputs and nothing else, so the graph is a DAG with no cycles and is freed when
/// the last reference to its result goes. Freeing a long chain does not recurse (see `deinit`).
public final class Value {
  /// The number this node holds. Optimizers change it in place: `p.data -= lr * p.grad`.
  @exclusivity(unchecked) public var data: Double
  /// ∂L/∂self, accumulated by ``backward()`` on some `L` that depends on this value.
  @exclusivity(unchecked) public var grad: Double = 0
  /// The op that made this value and its inputs; `Origin.leaf` for an input or parameter.
  /// `var` only so that `deinit` can take the inputs away.
  @exclusivity(unchecked) var origin: Origin
  /// Marks a node already placed in the topological order during one ``backward()`` call; every
  /// marked node is unmarked again before `backward()` returns.
  @exclusivity(unchecked) var isVisited = false

  /// A leaf: an input or a parameter.
  public init(_ data: Double) {
    self.data = data
    self.origin = .leaf
  }

  /// The result of an op. `origin` must hold inputs retained for this node: see `Origin`.
  @inline(__always)
  init(_ data: Double, _ origin: Origin) {
    self.data = data
    self.origin = origin
  }

  /// Releases the inputs without recursion. Releasing them one by one would free a chain
  /// `a → b → c → …` with one `deinit` nested inside the other, overflowing the stack after about
  /// 100,000 links. Instead, each input whose last owner is this node has its own inputs moved to
  /// an explicit stack before it is freed, so its `deinit` has nothing left to release.
  deinit {
    let (first, second) = origin.inputs
    guard let first else { return }
    var pending = ContiguousArray<Unmanaged<Value>>()
    pending.append(first)
    if let second { pending.append(second) }
    while let owned = pending.popLast() {
      var input = owned.takeRetainedValue()  // now `input` holds the reference we owned
      if isKnownUniquelyReferenced(&input) {
        let (first, second) = input.origin.inputs
        if let first { pending.append(first) }
        if let second { pending.append(second) }
        input.origin = .leaf
      }
    }  // `input` is released here: freed if it was unique, with no inputs left
  }

  /// Sets ``grad`` to zero. (`Module.zeroGrad()` does this for every parameter.)
  public func zeroGrad() { grad = 0 }

  /// The inputs of the op that made this value (micrograd's `_prev`); empty for a leaf. Constant
  /// operands are not values and are not listed.
  public var children: [Value] {
    let (first, second) = origin.inputs
    return [first, second].compactMap { $0?.takeUnretainedValue() }
  }

  /// The name of the op that made this value (micrograd's `_op`), e.g. `"*"`, `"ReLU"`; `""` for a leaf.
  public var operation: String { origin.symbol }
}

extension Value: CustomStringConvertible {
  /// `Value(data=…, grad=…)`, as micrograd prints a value.
  public var description: String { "Value(data=\(data), grad=\(grad))" }
}
