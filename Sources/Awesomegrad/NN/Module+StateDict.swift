/// Loading a module's parameters and buffers by name, as PyTorch's `load_state_dict`.
extension Module {
  /// Copies values into this module's parameters and buffers, matched by their state-dict names.
  ///
  /// - Parameters:
  ///   - state: tensors by name (``stateDict()``'s names: `layers.0.weight`, `bn.running_mean`, …).
  ///   - strict: when true (PyTorch's default), a name the module has but `state` lacks, or a name
  ///     in `state` the module does not have, is an error. When false, both are only reported.
  /// - Returns: the missing and unexpected names.
  /// - Throws: ``StateDictError`` naming every problem: shape mismatches always (as PyTorch), missing
  ///   and unexpected keys when `strict`. Nothing is copied unless the whole load can succeed.
  ///
  /// Values are copied in place, so optimizers that hold the parameters keep working, and each copy
  /// counts as an in-place update (a graph recorded before the load cannot be backpropagated after it).
  @discardableResult
  public func loadStateDict<Other: TensorScalar>(
    _ state: [String: Tensor<Other>], strict: Bool = true
  ) throws(StateDictError) -> (missingKeys: [String], unexpectedKeys: [String]) {
    let own = stateDict()
    let ownNames = Set(own.map(\.name))
    let missing = own.map(\.name).filter { state[$0] == nil }
    let unexpected = state.keys.filter { !ownNames.contains($0) }.sorted()
    var mismatches: [StateDictError.Mismatch] = []
    for entry in own {
      if let value = state[entry.name], value.shape != entry.tensor.shape {
        mismatches.append(.init(name: entry.name, expected: entry.tensor.shape, found: value.shape))
      }
    }
    if !mismatches.isEmpty || (strict && (!missing.isEmpty || !unexpected.isEmpty)) {
      throw StateDictError(
        module: "\(type(of: self))", missingKeys: strict ? missing : [],
        unexpectedKeys: strict ? unexpected : [], shapeMismatches: mismatches)
    }
    for entry in own {
      guard let value = state[entry.name] else { continue }
      let source = value.storage.buffer.base
      entry.tensor.updateValues { destination in
        for i in destination.indices { destination[i] = Scalar(source[i]) }
      }
    }
    return (missing, unexpected)
  }

  /// The state dict as a dictionary of tensors by name (the module's own tensors, not copies).
  public func stateTensors() -> [String: Tensor<Scalar>] {
    Dictionary(uniqueKeysWithValues: stateDict().map { ($0.name, $0.tensor) })
  }
}

/// Why ``Module/loadStateDict(_:strict:)`` refused a state dict: every problem, by name, as
/// PyTorch's "Error(s) in loading state_dict".
public struct StateDictError: Error, Equatable, CustomStringConvertible {
  /// A tensor whose shape differs between the module and the state dict.
  public struct Mismatch: Equatable, Sendable {
    /// The tensor's dotted name.
    public let name: String
    /// The shape the module's tensor has.
    public let expected: [Int]
    /// The shape in the state dict.
    public let found: [Int]
  }

  /// The module's type.
  public let module: String
  /// Names the module has and the state dict lacks.
  public let missingKeys: [String]
  /// Names the state dict has and the module lacks.
  public let unexpectedKeys: [String]
  /// Names present in both with different shapes.
  public let shapeMismatches: [Mismatch]

  /// PyTorch's "Error(s) in loading state_dict" report: missing and unexpected keys, size mismatches.
  public var description: String {
    var lines = ["Error(s) in loading state_dict for \(module):"]
    if !missingKeys.isEmpty { lines.append("  Missing key(s): \(missingKeys.joined(separator: ", "))") }
    if !unexpectedKeys.isEmpty { lines.append("  Unexpected key(s): \(unexpectedKeys.joined(separator: ", "))") }
    for m in shapeMismatches {
      lines.append("  size mismatch for \(m.name): the checkpoint has shape \(m.found), the module \(m.expected)")
    }
    return lines.joined(separator: "\n")
  }
}
