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
  /// An ``IntegerBuffer`` takes each value rounded toward zero, as PyTorch's `copy_` into int64 does.
  @discardableResult
  public func loadStateDict<Other: TensorScalar>(
    _ state: [String: Tensor<Other>], strict: Bool = true
  ) throws(StateDictError) -> (missingKeys: [String], unexpectedKeys: [String]) {
    try loadState(state, integers: [:], strict: strict)
  }

  /// ``loadStateDict(_:strict:)`` from tensors and from exact integers (a checkpoint's int64 tensors,
  /// by name, which go into ``IntegerBuffer``s without rounding through a float).
  @discardableResult
  func loadState<Other: TensorScalar>(
    _ state: [String: Tensor<Other>], integers: [String: (shape: [Int], values: [Int64])], strict: Bool
  ) throws(StateDictError) -> (missingKeys: [String], unexpectedKeys: [String]) {
    let own = stateDict()
    let ownNames = Set(own.map(\.name))
    func shape(_ name: String) -> [Int]? { state[name]?.shape ?? integers[name]?.shape }
    let missing = own.map(\.name).filter { shape($0) == nil }
    let unexpected = Set(state.keys).union(integers.keys).filter { !ownNames.contains($0) }.sorted()
    var mismatches: [StateDictError.Mismatch] = []
    for entry in own {
      if let found = shape(entry.name), found != entry.tensor.shape {
        mismatches.append(.init(name: entry.name, expected: entry.tensor.shape, found: found))
      }
    }
    if !mismatches.isEmpty || (strict && (!missing.isEmpty || !unexpected.isEmpty)) {
      throw StateDictError(
        module: "\(type(of: self))", missingKeys: strict ? missing : [],
        unexpectedKeys: strict ? unexpected : [], shapeMismatches: mismatches)
    }
    for entry in own {
      if let buffer = entry.integers {
        if let exact = integers[entry.name] {
          buffer.values = exact.values
        } else if let value = state[entry.name] {
          buffer.values = value.scalars.map { int64TowardZero(Double($0)) }
        }
      } else if let exact = integers[entry.name] {
        entry.tensor.updateValues { destination in
          for i in destination.indices { destination[i] = Scalar(Double(exact.values[i])) }
        }
      } else if let value = state[entry.name] {
        let source = value.storage.buffer.base
        entry.tensor.updateValues { destination in
          for i in destination.indices { destination[i] = Scalar(source[i]) }
        }
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
    if !unexpectedKeys.isEmpty {
      lines.append("  Unexpected key(s): \(unexpectedKeys.joined(separator: ", "))")
    }
    for m in shapeMismatches {
      lines.append(
        "  size mismatch for \(m.name): the checkpoint has shape \(m.found), the module \(m.expected)")
    }
    return lines.joined(separator: "\n")
  }
}

/// `value` rounded toward zero as an `Int64`, as PyTorch's float-to-int64 `copy_`; NaN and values
/// outside Int64 become `Int64.min`, as on x86.
func int64TowardZero(_ value: Double) -> Int64 {
  Int64(exactly: value.rounded(.towardZero)) ?? .min
}
