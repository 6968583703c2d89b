/// Saving and loading modules and optimizers as safetensors files, with PyTorch's names and types:
/// parameters and real buffers as F32 (`Float`) or F64 (`Double`), counters such as
/// `num_batches_tracked` as I64. PyTorch reads the file with
/// `model.load_state_dict(safetensors.torch.load_file(path))`, and a file PyTorch wrote loads here.
extension Module {
  /// Writes the state dict to `path` (atomically: a temporary file renamed into place).
  public func save(to path: String, metadata: [String: String] = [:]) throws(CheckpointError) {
    try writeSafeTensors(stateWritables(), metadata: metadata, to: path)
  }

  /// The state dict as the tensors a safetensors file holds, by name: parameters and real buffers
  /// in `Scalar` (F32 or F64), integer buffers as I64 (an ``IntegerBuffer``'s exact values).
  func stateWritables() -> [String: SafeTensorsWritable] {
    var tensors: [String: SafeTensorsWritable] = [:]
    for entry in stateDict() {
      switch entry.role {
      case .parameter, .buffer: tensors[entry.name] = SafeTensorsWritable(entry.tensor)
      case .integerBuffer:
        let values = entry.integers?.values ?? entry.tensor.scalars.map { int64TowardZero(Double($0)) }
        tensors[entry.name] = SafeTensorsWritable(int64: values, shape: entry.tensor.shape)
      }
    }
    return tensors
  }

  /// Loads the state dict from the safetensors file `path` by name, converting each tensor to
  /// this module's scalar type (F64, F32, F16, BF16; integer tensors for integer buffers).
  ///
  /// - Returns: the file's metadata and the missing and unexpected names (see
  ///   ``loadStateDict(_:strict:)``).
  /// - Throws: ``CheckpointError`` for a malformed file or a tensor of the wrong type, and
  ///   ``StateDictError`` for names or shapes that do not fit the module.
  @discardableResult
  public func load(
    from path: String, strict: Bool = true
  ) throws -> (metadata: [String: String], missingKeys: [String], unexpectedKeys: [String]) {
    let file = try SafeTensorsFile(contentsOf: path)
    var tensors: [String: Tensor<Scalar>] = [:]
    var integers: [String: (shape: [Int], values: [Int64])] = [:]
    for name in file.names {
      let dtype = file.entries[name]!.dtype
      if dtype.isFloatingPoint {
        tensors[name] = try file.tensor(name, as: Scalar.self)
      } else if dtype.isInteger {
        // Exact into an IntegerBuffer (num_batches_tracked is I64); converted into a tensor.
        integers[name] = try file.integers(name)
      } else {
        // BOOL tensors convert as PyTorch's copy_ does.
        let (shape, values) = try file.doubles(name)
        tensors[name] = Tensor(values.map { Scalar($0) }, shape: shape)
      }
    }
    let result = try loadState(tensors, integers: integers, strict: strict)
    return (file.metadata, result.missingKeys, result.unexpectedKeys)
  }
}

extension StatefulOptimizer {
  /// Writes the optimizer's state (``stateTensors()``) to `path`, atomically. Step counts are
  /// written as they are kept, as scalars of the optimizer's type.
  public func save(to path: String, metadata: [String: String] = [:]) throws(CheckpointError) {
    try saveSafeTensors(stateTensors(), metadata: metadata, to: path)
  }

  /// Replaces the optimizer's state with the one saved at `path`.
  public func load(from path: String) throws {
    try loadStateTensors(loadSafeTensors(path, as: Scalar.self).tensors)
  }
}
