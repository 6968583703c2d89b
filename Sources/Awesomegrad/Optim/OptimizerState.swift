/// Saving and restoring an optimizer's state (momentum buffers, Adam moments and step counts), so
/// that a run stopped after k steps and resumed continues bit for bit as if it had never stopped.
///
/// The state is a flat dictionary of tensors named as PyTorch's optimizer `state_dict()["state"]`,
/// by the parameter's position: `0.momentum_buffer` (SGD), `0.exp_avg`, `0.exp_avg_sq`, `0.step`
/// (Adam, AdamW). A parameter that has not been stepped has no entries. Hyperparameters are not
/// state: construct the optimizer with the same settings, then load.
public protocol StatefulOptimizer<Scalar>: Optimizer {
  /// The per-parameter state by name; copies, safe to keep or save.
  func stateTensors() -> [String: Tensor<Scalar>]
  /// Replaces the state with `state` (as returned by ``stateTensors()``), checking names and shapes.
  func loadStateTensors(_ state: [String: Tensor<Scalar>]) throws(OptimizerStateError)
}

/// Why an optimizer state could not be loaded.
public enum OptimizerStateError: Error, Equatable, CustomStringConvertible {
  /// A name that is not `index.field` for a parameter index and a field this optimizer keeps.
  case unexpectedKey(String)
  /// A state tensor whose shape is not its parameter's.
  case shapeMismatch(name: String, expected: [Int], found: [Int])
  /// A parameter with part of its state missing (e.g. `exp_avg` without `exp_avg_sq`).
  case incomplete(parameter: Int, missing: String)

  /// What was wrong with the optimizer state, and what to do.
  public var description: String {
    switch self {
    case .unexpectedKey(let name): "optimizer state: unexpected key \(name)"
    case .shapeMismatch(let name, let expected, let found):
      "optimizer state: \(name) has shape \(found), its parameter \(expected)"
    case .incomplete(let parameter, let missing):
      "optimizer state: parameter \(parameter) lacks \(missing)"
    }
  }
}

/// Splits `index.field` and checks the index against `count`.
func parseStateKey(_ key: String, parameterCount count: Int) throws(OptimizerStateError) -> (Int, String) {
  let parts = key.split(separator: ".", maxSplits: 1)
  guard parts.count == 2, let index = Int(parts[0]), (0..<count).contains(index) else {
    throw .unexpectedKey(key)
  }
  return (index, String(parts[1]))
}

/// A copy of `storage` as a leaf tensor.
func stateCopy<Scalar>(_ storage: Storage<Scalar>) -> Tensor<Scalar> { Tensor(storage.copy()) }
