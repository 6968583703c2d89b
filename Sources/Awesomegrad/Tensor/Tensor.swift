/// An n-dimensional array of `Float` or `Double` that records the operations applied to it, so that
/// ``backward(gradient:retainGraph:file:line:onLeafGradientReady:)`` can compute gradients by reverse-mode automatic differentiation.
///
/// A tensor holds its values in a contiguous row-major ``Storage``. A tensor made by an op also holds
/// its `parents` (the op's inputs) and a `pullback`: the function that maps the gradient of the output
/// to the gradients of the inputs. The pullback captures input values, never the output tensor, so
/// the graph has no cycles and is freed with the last reference to its result.
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// let w = Tensor<Double>.randomNormal([3, 2], using: &rng).requireGrad()
/// let x = Tensor<Double>([1, 2, 3], shape: [1, 3])
/// let loss = x.matmul(w).tanh().sum()
/// loss.backward()
/// print(w.grad!)   // ∂loss/∂w, shape [3, 2]
/// ```
///
/// The mutable fields skip Swift's run-time exclusivity checks (`@exclusivity(unchecked)`): the
/// engine never holds two accesses to one field at once, and the checks cost about 4% of a small
/// training step.
public final class Tensor<Scalar: TensorScalar> {
  /// The values. Ops never mutate them; optimizers update parameters in place through
  /// ``updateValues(_:)``, which counts the change in the buffer's version.
  public let storage: Storage<Scalar>
  /// Whether gradients flow to this tensor. Set on leaves (parameters); ops propagate it.
  @exclusivity(unchecked) public private(set) var requiresGrad: Bool
  /// The accumulated gradient, kept for leaves that require grad.
  @exclusivity(unchecked) var gradStorage: Storage<Scalar>?
  /// The inputs of the op that made this tensor; empty for a leaf and for a released node.
  @exclusivity(unchecked) var parents: [Tensor]
  /// Maps the gradient of this tensor to the gradients of `parents`, in order. Nil for a leaf and
  /// for a node whose graph a backward pass released. One closure serves both kinds of backward
  /// pass (see ``Pullback``).
  @exclusivity(unchecked) var pullback: Pullback?
  /// The gradient with its own graph, left by ``backward(gradient:createGraph:retainGraph:file:line:)``
  /// on a leaf: ``grad`` returns it while ``gradStorage`` is still its storage.
  @exclusivity(unchecked) var gradientWithGraph: Tensor?
  /// The op that made this tensor (`"leaf"` for a leaf): named in errors and graph pictures.
  public let op: StaticString
  /// The sum of the buffer versions of `parents` and of this tensor when the op ran. Versions only
  /// grow, so a different sum at backward time means a saved input was modified in place.
  @exclusivity(unchecked) var savedVersion: Int
  /// Scratch mark for graph walks; always false between walks.
  @exclusivity(unchecked) var isVisited = false
  /// Set when a backward pass without `retainGraph` used and dropped this node's pullback.
  @exclusivity(unchecked) var isReleased = false
  /// For a slice of its one parent: where the slice lies, so that backward adds the slice's gradient
  /// into that region of the parent's gradient, at the cost of the slice (see ``SliceRegion``).
  @exclusivity(unchecked) var sliceRegion: SliceRegion?

  /// A leaf tensor over `storage`.
  public init(_ storage: Storage<Scalar>, requiresGrad: Bool = false) {
    self.storage = storage
    self.requiresGrad = requiresGrad
    self.parents = []
    self.pullback = nil
    self.op = "leaf"
    self.savedVersion = 0
  }

  /// The result of an op: records `parents` and `pullback` when any parent requires grad and grad
  /// mode is on; otherwise a plain leaf that remembers nothing.
  ///
  /// - Parameters:
  ///   - storage: the op's output values.
  ///   - op: the op's name, for errors and graph pictures.
  ///   - parents: the op's tensor inputs.
  ///   - file: where the caller created the op, for anomaly mode's message: ops that take the
  ///     caller's `file:line` pass them on (the default, a library line, means "find it on the stack").
  ///   - line: the line in `file`.
  ///   - pullback: maps ∂L/∂output to [∂L/∂parents[i]], nil where an input gets no gradient. It may
  ///     read the inputs' and the output's storages: backward checks that none changed in between.
  ///     Given a ``GradientGraph`` (a pass with `createGraph`), it records its gradients as tensor
  ///     ops instead (``GradientGraph/record(_:)``) and returns `[]`.
  @inline(__always)
  init(
    _ storage: Storage<Scalar>, op: StaticString, parents: [Tensor], file: StaticString = #fileID,
    line: UInt = #line, pullback: @escaping Pullback
  ) {
    self.storage = storage
    self.op = op
    var anyRequiresGrad = false
    for p in parents where p.requiresGrad {
      anyRequiresGrad = true
      break
    }
    let mode = GradMode.state  // the one task-local read of an op: grad mode and anomaly mode
    if anyRequiresGrad && mode.recordsGraph {
      self.requiresGrad = true
      // Anomaly mode checks the output and wraps the pullback before `parents` is stored.
      self.pullback =
        mode.detectsAnomalies
        ? Tensor.checkedForAnomalies(storage, op: op, inputs: parents, file: file, line: line, pullback)
        : pullback
      self.parents = parents
      self.savedVersion = storage.buffer.version &+ versionSum(parents)
    } else {
      if mode.detectsAnomalies {
        _ = Tensor.checkedForAnomalies(storage, op: op, inputs: parents, file: file, line: line, pullback)
      }
      self.requiresGrad = false
      self.parents = []
      self.pullback = nil
      self.savedVersion = 0
    }
  }

  /// Releases a long chain of ops without recursing once per link (see ``releaseParents()``).
  deinit {
    releaseParents()
  }

  /// Unlinks the graph above a dying tensor on an explicit stack: a parent that only this tensor
  /// holds gives up its own parents to the stack before it is freed, so a graph 100,000 ops deep is
  /// freed in constant stack space. A method of its own, so that the deinit (which Swift never
  /// specialises) reaches a specialised copy.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  func releaseParents() {
    guard !parents.isEmpty else { return }
    var pending = parents
    parents = []
    while var tensor = pending.popLast() {
      if isKnownUniquelyReferenced(&tensor) && !tensor.parents.isEmpty {
        for parent in tensor.parents { pending.append(parent) }
        tensor.parents = []
        tensor.pullback = nil
      }
    }
  }

  // MARK: Shape and values

  /// The sizes of the axes; `[]` for a scalar.
  public var shape: [Int] { storage.shape }
  /// The number of axes.
  public var rank: Int { storage.shape.count }
  /// The number of elements.
  public var count: Int { storage.count }
  /// The elements in row-major order.
  public var scalars: [Scalar] { storage.scalars }

  /// The value of a tensor with one element.
  public func item(file: StaticString = #fileID, line: UInt = #line) -> Scalar {
    if count != 1 {
      shapeFailure("item", "the tensor has \(count) elements, not 1", shapes: [shape], file: file, line: line)
    }
    return storage.buffer.base[0]
  }

  /// Whether this tensor is a leaf: not made by an op that recorded its inputs (a parameter, data,
  /// or a result computed without grad). A node released by backward is not a leaf.
  public var isLeaf: Bool { pullback == nil && !isReleased }

  // MARK: Gradients

  /// The gradient accumulated by ``backward(gradient:retainGraph:file:line:onLeafGradientReady:)``; nil before any backward pass.
  /// Kept for leaves that require grad.
  public var grad: Tensor? {
    guard let gradStorage else { return nil }
    // After backward(createGraph: true), the gradient that carries its graph, unless a later
    // first-order pass replaced or updated the storage since.
    // (An in-place update of the gradient copies it first: the graph's tensor shares the buffer.)
    if let gradientWithGraph, gradientWithGraph.storage.buffer === gradStorage.buffer {
      return gradientWithGraph
    }
    return Tensor(gradStorage)
  }

  /// Clears the accumulated gradient.
  public func zeroGrad() {
    gradStorage = nil
    gradientWithGraph = nil
  }

  /// Marks this leaf, in place, as a parameter whose gradient is wanted (or not), like PyTorch's
  /// `requires_grad_()`, and returns it so that a creation reads as one expression:
  /// `let w = Tensor<Float>.randomNormal([3, 2], using: &rng).requireGrad()`.
  ///
  /// It mutates `self` (an imperative verb, as Swift names a mutation): every reference to this
  /// tensor sees the change. Use ``detached()`` or ``clone()`` first for a separate leaf.
  @discardableResult
  public func requireGrad(_ flag: Bool = true, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    if !isLeaf {
      shapeFailure(
        "requireGrad", "only a leaf tensor can change requiresGrad; use detached() first",
        shapes: [shape], file: file, line: line)
    }
    requiresGrad = flag
    return self
  }

  /// The earlier spelling of ``requireGrad(_:file:line:)``, which mutates in place although an
  /// `-ing` name promises a copy.
  @available(*, deprecated, renamed: "requireGrad(_:file:line:)")
  @discardableResult
  public func requiringGrad(_ flag: Bool = true, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    requireGrad(flag, file: file, line: line)
  }

  /// A leaf with the same values (shared, not copied) that is cut off from the graph. An in-place
  /// update of either one is seen by both, and counted in the shared version.
  public func detached() -> Tensor { Tensor(storage) }

  /// A copy with its own buffer that stays in the graph: ∂clone/∂self is the identity, as PyTorch's
  /// `clone()`. Modify the copy in place without touching what a pullback saved of `self`.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func clone() -> Tensor {
    Tensor(storage.copy(), op: "clone", parents: [self]) { g, graph in
      if let graph { return graph.record { g, _, _ in [g] } }
      return [g]
    }
  }

  /// Adds `g` to the accumulated gradient, in place when no one else can see the gradient buffer.
  ///
  /// A leaf's gradient is private: when `g` is still referenced elsewhere (the same gradient sent to
  /// two inputs of `a + b`, or a caller's tensor), the leaf keeps a copy, so that updating one
  /// gradient in place never changes another. `g` is consumed, so a gradient nobody else holds is
  /// kept without copying.
  @inline(__always)
  func accumulateGrad(_ g: consuming Storage<Scalar>) {
    guard var existing = gradStorage else {
      var owned = consume g
      if pullback == nil && !isKnownUniquelyReferenced(&owned.buffer) { owned = owned.copy() }
      gradStorage = owned
      return
    }
    gradStorage = nil  // drop our reference so the uniqueness check sees only `existing`
    if isKnownUniquelyReferenced(&existing.buffer) {
      CPU.add(g.buffer.base, into: existing.buffer.base, count: existing.count)
      gradStorage = existing
    } else {
      gradStorage = Storage.broadcasting(existing, g, op: "accumulateGrad", ScalarFunction.Add())
    }
  }

  /// Adds `g`, the gradient of a slice of this tensor, into `region` of the accumulated gradient.
  /// Costs the slice's size, except that the first contribution allocates the zero-filled gradient.
  func accumulateSliceGrad(_ g: Storage<Scalar>, region: SliceRegion) {
    if var existing = gradStorage {
      gradStorage = nil
      if !isKnownUniquelyReferenced(&existing.buffer) { existing = existing.copy() }
      existing.addBlocks(from: g, region: region)
      gradStorage = existing
    } else {
      let zeros = Storage<Scalar>(repeating: 0, shape: shape)
      zeros.addBlocks(from: g, region: region)
      gradStorage = zeros
    }
  }

  /// Mutates the values in place. For optimizers, initialisers and checkpoint loading: ops never
  /// mutate.
  ///
  /// The change is counted in the buffer's version (shared by every view of the buffer, such as a
  /// reshape or ``detached()``). A graph recorded before the change and backpropagated after it
  /// stops with a message naming the op, as PyTorch's "modified by an inplace operation" does:
  /// call `backward()` before `optimizer.step()`.
  @inline(__always)
  public func updateValues(_ body: (UnsafeMutableBufferPointer<Scalar>) -> Void) {
    storage.buffer.version &+= 1
    body(UnsafeMutableBufferPointer(start: storage.buffer.base, count: storage.count))
  }
}

/// Where a slice lies in its source, viewed as `[outer, axisSize, inner]`: indices
/// `start..<start + size` along the middle axis.
struct SliceRegion {
  let axisSize: Int, start: Int, size: Int, inner: Int
}

/// The sum of the buffer versions of `tensors` (see ``Tensor/savedVersion``).
@inline(__always)
func versionSum<Scalar>(_ tensors: [Tensor<Scalar>]) -> Int {
  var sum = 0
  for t in tensors { sum &+= t.storage.buffer.version }
  return sum
}
