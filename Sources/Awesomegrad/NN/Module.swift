/// A building block of a neural network, PyTorch's `nn.Module`: it owns named parameters, buffers
/// and child modules, registered once by name in its initializer. Everything else comes from that
/// registration: the dotted names of ``namedParameters`` (`layers.0.weight`,
/// `transformer.h.0.attn.c_attn.weight`), the ``parameters`` an optimizer steps, the buffers
/// (non-trainable state such as batch norm's running statistics), ``train(_:)``/``eval()`` mode, and
/// the state dict a checkpoint saves. Nobody joins names by hand, and there is no reflection.
///
/// A subclass stores its parts in properties for its forward pass, and registers each one:
///
/// ```swift
/// final class TwoLayer: Module<Float> {
///   let hidden: Linear<Float>, output: Linear<Float>
///   init(using rng: inout SeededGenerator) {
///     hidden = Linear(inputs: 784, outputs: 128, using: &rng)
///     output = Linear(inputs: 128, outputs: 10, using: &rng)
///     super.init()
///     register("hidden", hidden)
///     register("output", output)
///   }
///   override func callAsFunction(_ x: Tensor<Float>) -> Tensor<Float> { output(hidden(x).relu()) }
/// }
/// TwoLayer(using: &rng).namedParameters.map(\.name)  // ["hidden.weight", "hidden.bias", "output.weight", …]
/// ```
///
/// A module with one tensor input overrides ``callAsFunction(_:)``, which ``Sequential`` calls. A
/// module with more inputs (attention with a mask) defines its own `callAsFunction(_:mask:)`.
///
/// A parameter reachable twice (tied weights, a layer used twice) is listed once, under its first
/// name, as PyTorch deduplicates by identity; so every optimizer steps it once.
open class Module<Scalar: TensorScalar> {
  /// What a module registered under a name, in registration order.
  enum Entry {
    case parameter(Tensor<Scalar>)
    case buffer(Tensor<Scalar>, BufferKind)
    case integerBuffer(IntegerBuffer)
    case child(Module<Scalar>)
  }

  /// The registrations, in order. Names are unique within a module.
  private var entries: [(name: String, entry: Entry)] = []
  /// The parameters of the tree, and the registration counts of this module and of every module
  /// below it that they were collected from: valid while no module of the tree has registered
  /// anything since. Only descendants are held (strongly, as the tree holds them anyway), never
  /// `self`, so the cache makes no cycle.
  private var parameterCache:
    (parameters: [Tensor<Scalar>], ownCount: Int, descendants: [(Module<Scalar>, Int)])?

  /// Whether the module behaves as in training (dropout drops, batch norm uses batch statistics) or
  /// evaluation. Set for the whole tree by ``train(_:)`` and ``eval()``.
  public private(set) var isTraining = true

  /// A module with nothing registered yet; subclasses register their parts after `super.init()`.
  public init() {}

  // MARK: Registration

  /// Registers a trainable parameter under `name`, marks it as requiring grad, and returns it.
  @discardableResult
  public func registerParameter(
    _ name: String, _ tensor: Tensor<Scalar>, file: StaticString = #fileID, line: UInt = #line
  ) -> Tensor<Scalar> {
    add(name, .parameter(tensor.requireGrad()), file: file, line: line)
    return tensor
  }

  /// Registers a buffer: state that is saved and loaded with the module but not trained (running
  /// statistics). `kind` says how a checkpoint stores it (`.integer` for counters such as
  /// `num_batches_tracked`, which PyTorch keeps as int64).
  @discardableResult
  public func registerBuffer(
    _ name: String, _ tensor: Tensor<Scalar>, kind: BufferKind = .real,
    file: StaticString = #fileID, line: UInt = #line
  ) -> Tensor<Scalar> {
    add(name, .buffer(tensor, kind), file: file, line: line)
    return tensor
  }

  /// Registers a buffer of whole numbers kept exactly (``IntegerBuffer``), such as a counter of
  /// batches; a checkpoint stores it as int64, as PyTorch does.
  @discardableResult
  public func registerBuffer(
    _ name: String, _ buffer: IntegerBuffer, file: StaticString = #fileID, line: UInt = #line
  ) -> IntegerBuffer {
    add(name, .integerBuffer(buffer), file: file, line: line)
    return buffer
  }

  /// Registers a child module under `name` (its parameters are then named `name.…`) and returns it.
  @discardableResult
  public func register<M: Module<Scalar>>(
    _ name: String, _ module: M, file: StaticString = #fileID, line: UInt = #line
  ) -> M {
    if module === self {
      argumentFailure("register", "a module cannot contain itself", file: file, line: line)
    }
    add(name, .child(module), file: file, line: line)
    return module
  }

  private func add(_ name: String, _ entry: Entry, file: StaticString, line: UInt) {
    if name.isEmpty || name.contains(".") {
      argumentFailure(
        "register", "the name \"\(name)\" must be non-empty and without dots", file: file, line: line)
    }
    if entries.contains(where: { $0.name == name }) {
      argumentFailure(
        "register", "\(type(of: self)) already has an entry named \"\(name)\"", file: file, line: line)
    }
    entries.append((name, entry))
  }

  /// The number of registrations, which only grows; checked by the parameter cache.
  private var registrationCount: Int { entries.count }

  // MARK: The tree

  /// The direct children, in registration order.
  public var children: [(name: String, module: Module<Scalar>)] {
    entries.compactMap { name, entry in
      if case .child(let module) = entry { return (name, module) }
      return nil
    }
  }

  /// Every module of the tree with its dotted name, this one first (named `""`), depth first in
  /// registration order; a module reachable twice is listed once.
  public var namedModules: [(name: String, module: Module<Scalar>)] {
    var result: [(name: String, module: Module<Scalar>)] = []
    var seen = Set<ObjectIdentifier>()
    var stack: [(String, Module<Scalar>)] = [("", self)]
    while let (name, module) = stack.popLast() {
      guard seen.insert(ObjectIdentifier(module)).inserted else { continue }
      result.append((name, module))
      for (childName, child) in module.children.reversed() {
        stack.append((name.isEmpty ? childName : name + "." + childName, child))
      }
    }
    return result
  }

  /// The trainable parameters of the whole tree with their `state_dict` names, each tensor once.
  public var namedParameters: [(name: String, tensor: Tensor<Scalar>)] {
    var seen = Set<ObjectIdentifier>()
    return namedTensors { entry in
      if case .parameter(let t) = entry, seen.insert(ObjectIdentifier(t)).inserted { return t }
      return nil
    }
  }

  /// The parameters in the order of ``namedParameters``, each tensor once: what an optimizer is
  /// given. Cached, because a training step may ask for it (an L2 penalty); the cache is checked
  /// against every module's registration count, so a later registration anywhere in the tree is seen.
  public var parameters: [Tensor<Scalar>] {
    if let cache = parameterCache, cache.ownCount == registrationCount,
      cache.descendants.allSatisfy({ $0.0.registrationCount == $0.1 })
    {
      return cache.parameters
    }
    var result: [Tensor<Scalar>] = []
    var modules: [Module<Scalar>] = []
    collectParameters(into: &result, visited: &modules)
    parameterCache = (result, registrationCount, modules.dropFirst().map { ($0, $0.registrationCount) })
    return result
  }

  private func collectParameters(into result: inout [Tensor<Scalar>], visited: inout [Module<Scalar>]) {
    // Identity checks by linear scan: models have tens of modules, and this avoids hashing.
    guard !visited.contains(where: { $0 === self }) else { return }
    visited.append(self)
    // The order of namedParameters: a module's own parameters, then its children's.
    for (_, entry) in entries {
      if case .parameter(let t) = entry, !result.contains(where: { $0 === t }) { result.append(t) }
    }
    for (_, entry) in entries {
      if case .child(let module) = entry { module.collectParameters(into: &result, visited: &visited) }
    }
  }

  /// The buffers of the whole tree with their `state_dict` names and how they are stored.
  public var namedBuffers: [(name: String, tensor: Tensor<Scalar>, kind: BufferKind)] {
    var kinds: [ObjectIdentifier: BufferKind] = [:]
    var seen = Set<ObjectIdentifier>()
    let tensors = namedTensors { entry in
      if case .buffer(let t, let kind) = entry, seen.insert(ObjectIdentifier(t)).inserted {
        kinds[ObjectIdentifier(t)] = kind
        return t
      }
      return nil
    }
    return tensors.map { ($0.name, $0.tensor, kinds[ObjectIdentifier($0.tensor)]!) }
  }

  /// The integer buffers (``IntegerBuffer``) of the whole tree with their `state_dict` names, each
  /// buffer once.
  public var namedIntegerBuffers: [(name: String, buffer: IntegerBuffer)] {
    var seen = Set<ObjectIdentifier>()
    return namedEntries { entry in
      if case .integerBuffer(let b) = entry, seen.insert(ObjectIdentifier(b)).inserted { return b }
      return nil
    }.map { ($0.name, $0.value) }
  }

  /// The tensors that `select` picks from every module's entries, with dotted names, in tree order.
  private func namedTensors(
    _ select: (Entry) -> Tensor<Scalar>?
  ) -> [(name: String, tensor: Tensor<Scalar>)] {
    namedEntries(select).map { ($0.name, $0.value) }
  }

  /// What `select` picks from every module's entries, with dotted names, in tree order.
  private func namedEntries<Value>(_ select: (Entry) -> Value?) -> [(name: String, value: Value)] {
    var result: [(name: String, value: Value)] = []
    for (prefix, module) in namedModules {
      for (name, entry) in module.entries {
        if let value = select(entry) { result.append((prefix.isEmpty ? name : prefix + "." + name, value)) }
      }
    }
    return result
  }

  /// The parameters and buffers of the whole tree by name, as PyTorch's `state_dict()`: what a
  /// checkpoint saves. The parameters come first, then the buffers (tensors and integer buffers, in
  /// registration order). The tensors are the module's own (not copies); an integer buffer's entry
  /// holds the buffer itself in ``StateEntry/integers`` and, in ``StateEntry/tensor``, a copy of its
  /// values in `Scalar` (exact up to 2²⁴ in Float, 2⁵³ in Double).
  public func stateDict() -> [StateEntry<Scalar>] {
    var seen = Set<ObjectIdentifier>()
    let buffers = namedEntries { entry -> StateEntry<Scalar>? in
      switch entry {
      case .buffer(let t, let kind) where seen.insert(ObjectIdentifier(t)).inserted:
        return StateEntry(name: "", tensor: t, role: kind == .integer ? .integerBuffer : .buffer)
      case .integerBuffer(let b) where seen.insert(ObjectIdentifier(b)).inserted:
        let copy = Tensor<Scalar>(b.values.map { Scalar(Double($0)) }, shape: b.shape)
        return StateEntry(name: "", tensor: copy, role: .integerBuffer, integers: b)
      default: return nil
      }
    }
    return namedParameters.map { StateEntry(name: $0.name, tensor: $0.tensor, role: .parameter) }
      + buffers.map {
        StateEntry(name: $0.name, tensor: $0.value.tensor, role: $0.value.role, integers: $0.value.integers)
      }
  }

  /// The total number of scalars in the parameters.
  public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

  /// Clears the gradient of every parameter.
  public func zeroGrad() {
    for tensor in parameters { tensor.zeroGrad() }
  }

  /// Switches the whole tree to training (`true`) or evaluation mode, and returns this module, so
  /// `model.train()` reads as a statement.
  @discardableResult public func train(_ training: Bool = true) -> Self {
    for (_, module) in namedModules { module.isTraining = training }
    return self
  }

  /// Evaluation mode for the whole tree: dropout is the identity, batch norm uses running statistics.
  @discardableResult public func eval() -> Self { train(false) }

  // MARK: Forward

  /// The output for one input tensor. Modules with one input override this; ``Sequential`` calls it.
  open func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    argumentFailure(
      "\(type(of: self))", "this module has no one-input forward pass; call its own callAsFunction",
      file: #fileID, line: #line)
  }
}

/// How a checkpoint stores a buffer.
public enum BufferKind: Sendable, Equatable {
  /// Real values, in the module's scalar type.
  case real
  /// Whole numbers held in a tensor, stored as int64 as PyTorch does. A `Float` tensor holds them
  /// exactly only up to 2²⁴: keep a counter in an ``IntegerBuffer`` instead (batch norm's
  /// `num_batches_tracked` is one).
  case integer
}

/// One entry of a module's state dict.
public struct StateEntry<Scalar: TensorScalar> {
  /// What the tensor is to the module.
  public enum Role: Sendable, Equatable {
    /// A trainable parameter.
    case parameter
    /// A real-valued buffer (running statistics).
    case buffer
    /// A whole-number buffer, stored as int64.
    case integerBuffer
  }

  /// The dotted name, e.g. `layers.0.weight`.
  public let name: String
  /// The module's own tensor; for an ``IntegerBuffer``, a copy of its values in `Scalar`.
  public let tensor: Tensor<Scalar>
  /// Parameter or buffer.
  public let role: Role
  /// The module's own ``IntegerBuffer`` for an integer buffer registered as one (exact values);
  /// nil otherwise.
  public let integers: IntegerBuffer?

  init(name: String, tensor: Tensor<Scalar>, role: Role, integers: IntegerBuffer? = nil) {
    (self.name, self.tensor, self.role, self.integers) = (name, tensor, role, integers)
  }
}
