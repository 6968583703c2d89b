/// Everything a run needs to continue bit for bit, in one safetensors file: the model, the state of
/// its optimizers, and a ``TrainingState`` (the step and epoch counters, the sampler's position and
/// shuffle seed, every random generator, the loop's own numbers).
///
/// The checkpoint refers to the model and the optimizers; ``write(_:to:metadata:)`` saves them as
/// they are, and ``load(contentsOf:)`` puts a saved state back into them and returns the loop's
/// state. ``CheckpointDirectory`` keeps the last few of these files and resumes from the newest valid
/// one, which is what a training loop normally uses.
///
/// ```swift
/// let checkpoint = TrainingCheckpoint(model: model, optimizers: [optimizer])
/// try checkpoint.write(state, to: "run/step-100.safetensors")
/// state = try checkpoint.load(contentsOf: "run/step-100.safetensors")
/// ```
///
/// The file's tensors: `model.<state-dict name>` (F32 for `Float`, F64 for `Double`; integer buffers
/// I64), `optimizer.<k>.<i>.<field>` (the k-th optimizer's ``StatefulOptimizer/stateTensors()``) and
/// `optimizer.<k>.learning_rate` (F64), `loop.step`, `loop.epoch`, `loop.batch_in_epoch` (I64),
/// `rng.loop`, `rng.epoch` (the sampler's shuffle seed), `rng.named.<name>` and
/// `rng.module.<module name>` (each generator's four state words as I64, bit for bit; the last for
/// every ``Dropout`` in the model), and `value.<name>` (F64). The metadata holds `format`
/// (`awesomegrad-training`), `format_version`, `optimizers` (their count) and `checksum`, a CRC-32 of
/// the tensor entries, the rest of the metadata and the data: a file whose bytes changed after it
/// was written is refused as ``TrainingCheckpointError/invalid(path:reason:)``.
public struct TrainingCheckpoint<Scalar: TensorScalar> {
  /// The model whose parameters and buffers are saved and restored.
  public let model: Module<Scalar>
  /// The optimizers whose state is saved and restored, in this order.
  public let optimizers: [any StatefulOptimizer<Scalar>]

  /// A checkpoint of `model` and `optimizers` (often one; char-lm's AdamW with and without weight
  /// decay are two). Restore into the same set-up: the same model and optimizers, in the same order.
  public init(model: Module<Scalar>, optimizers: [any StatefulOptimizer<Scalar>]) {
    self.model = model
    self.optimizers = optimizers
  }

  /// The metadata keys the checkpoint sets itself.
  static var reservedMetadataKeys: Set<String> { ["format", "format_version", "optimizers", "checksum"] }
  /// The value of the `format` metadata key.
  static var formatName: String { "awesomegrad-training" }

  // MARK: Writing

  /// Writes the model, the optimizers and `state` to `path`, atomically (a temporary file beside it,
  /// flushed and renamed into place): a crash leaves the old file or the new one, never half a file.
  ///
  /// - Parameters:
  ///   - state: the loop's state to save with the model and the optimizers.
  ///   - path: the file to write.
  ///   - metadata: strings of your own to keep in the file (not `format`, `format_version`,
  ///     `optimizers` or `checksum`); ``load(contentsOf:)`` ignores them.
  /// - Throws: ``TrainingCheckpointError/unwritable(path:reason:)`` (a full disk, a folder that does
  ///   not exist or cannot be written); nothing is left at `path`'s temporary name, and a file
  ///   already at `path` is untouched.
  public func write(
    _ state: TrainingState, to path: String, metadata: [String: String] = [:]
  ) throws(TrainingCheckpointError) {
    let (tensors, fullMetadata) = try contents(state, metadata: metadata, path: path)
    do {
      try writeSafeTensors(tensors, metadata: fullMetadata, to: path)
    } catch {
      if case .unwritable(_, let reason) = error { throw .unwritable(path: path, reason: reason) }
      throw .unwritable(path: path, reason: error.description)
    }
  }

  /// The bytes of the file ``write(_:to:metadata:)`` writes.
  public func bytes(_ state: TrainingState, metadata: [String: String] = [:]) throws(TrainingCheckpointError)
    -> [UInt8]
  {
    let (tensors, fullMetadata) = try contents(state, metadata: metadata, path: "<memory>")
    do {
      return try safeTensorsBytes(tensors, metadata: fullMetadata)
    } catch {
      throw .unwritable(path: "<memory>", reason: error.description)
    }
  }

  /// The tensors and the metadata (with the checksum) of a checkpoint of `state`.
  private func contents(
    _ state: TrainingState, metadata: [String: String], path: String
  ) throws(TrainingCheckpointError) -> ([String: SafeTensorsWritable], [String: String]) {
    for key in metadata.keys where Self.reservedMetadataKeys.contains(key) {
      argumentFailure(
        "TrainingCheckpoint.write", "the metadata key \"\(key)\" is the checkpoint's own; use another name",
        file: #fileID, line: #line)
    }
    var tensors: [String: SafeTensorsWritable] = [:]
    for (name, tensor) in model.stateWritables() { tensors["model." + name] = tensor }
    for (k, optimizer) in optimizers.enumerated() {
      for (key, tensor) in optimizer.stateTensors() {
        tensors["optimizer.\(k).\(key)"] = SafeTensorsWritable(tensor)
      }
      tensors["optimizer.\(k).learning_rate"] = SafeTensorsWritable(
        Tensor<Double>(scalar: optimizer.learningRate))
    }
    func integer(_ value: Int) -> SafeTensorsWritable {
      SafeTensorsWritable(int64: [Int64(value)], shape: [])
    }
    func words(_ generator: SeededGenerator) -> SafeTensorsWritable {
      SafeTensorsWritable(int64: generator.state.map { Int64(bitPattern: $0) }, shape: [4])
    }
    tensors["loop.step"] = integer(state.step)
    tensors["loop.epoch"] = integer(state.epoch)
    tensors["loop.batch_in_epoch"] = integer(state.batchInEpoch)
    tensors["rng.loop"] = words(state.generator)
    tensors["rng.epoch"] = words(state.epochGenerator)
    for (name, generator) in state.generators { tensors["rng.named." + name] = words(generator) }
    for (name, dropout) in dropoutModules() {
      tensors[Self.moduleGeneratorName(name)] = words(dropout.generator)
    }
    for (name, value) in state.values {
      tensors["value." + name] = SafeTensorsWritable(Tensor<Double>(scalar: value))
    }

    var fullMetadata = metadata
    fullMetadata["format"] = Self.formatName
    fullMetadata["format_version"] = "1"
    fullMetadata["optimizers"] = "\(optimizers.count)"
    // The checksum covers the entries as the file will list them: the data order and offsets are the
    // writer's (widest dtype first, then by name).
    let order: [String]
    do {
      order = try safeTensorsHeader(tensors, metadata: fullMetadata, path: path).order
    } catch {
      throw .unwritable(path: path, reason: error.description)
    }
    var entries: [String: SafeTensorsEntry] = [:]
    var offset = 0
    for name in order {
      let tensor = tensors[name]!, size = tensor.count * tensor.dtype.byteCount
      entries[name] = SafeTensorsEntry(
        dtype: tensor.dtype, shape: tensor.shape, count: tensor.count, byteRange: offset..<(offset + size))
      offset += size
    }
    var crc = Self.describingCRC(entries: entries, metadata: fullMetadata)
    do {
      for name in order {
        try tensors[name]!.withLittleEndianBytes { raw in crc = Zlib.crc32(raw, continuing: crc) }
      }
    } catch {
      throw .unwritable(path: path, reason: error.description)
    }
    fullMetadata["checksum"] = Self.checksumText(crc)
    return (tensors, fullMetadata)
  }

  // MARK: Reading

  /// Reads the checkpoint at `path`, puts the model's and the optimizers' state back, and returns the
  /// loop's state (see ``load(bytes:path:)``).
  public func load(contentsOf path: String) throws(TrainingCheckpointError) -> TrainingState {
    let bytes: [UInt8]
    do {
      bytes = try readWholeFile(path)
    } catch {
      throw .invalid(path: path, reason: error.description)
    }
    return try load(bytes: bytes, path: path)
  }

  /// Validates the checkpoint `bytes`, puts the model's parameters and buffers, the optimizers' state
  /// and learning rates and the dropout layers' generators back, and returns the loop's state.
  ///
  /// Nothing changes unless all of it can be restored.
  /// - Throws: ``TrainingCheckpointError/invalid(path:reason:)`` for a file that is not a complete,
  ///   unchanged training checkpoint, ``TrainingCheckpointError/doesNotFit(path:reason:)`` for one of
  ///   another model or optimizer set-up.
  public func load(bytes: [UInt8], path: String) throws(TrainingCheckpointError) -> TrainingState {
    let contents = try TrainingCheckpointContents(bytes: bytes, path: path, as: Scalar.self)
    try restore(contents)
    return contents.state
  }

  /// Puts `contents` into the model, the optimizers and the dropout layers, or changes nothing.
  func restore(_ contents: TrainingCheckpointContents<Scalar>) throws(TrainingCheckpointError) {
    let path = contents.path
    guard contents.optimizerStates.count == optimizers.count else {
      throw .doesNotFit(
        path: path,
        reason:
          "it holds \(contents.optimizerStates.count) optimizers' state, this run has \(optimizers.count)")
    }
    // The model's names and shapes, checked before anything is changed.
    let own = model.stateDict()
    let ownNames = Set(own.map(\.name))
    func shape(_ name: String) -> [Int]? {
      contents.model[name]?.shape ?? contents.modelIntegers[name]?.shape
    }
    let missing = own.map(\.name).filter { shape($0) == nil }
    let unexpected = Set(contents.model.keys).union(contents.modelIntegers.keys).filter {
      !ownNames.contains($0)
    }
    if let name = missing.first {
      throw .doesNotFit(
        path: path, reason: "the model's \(quoted(name)) is not in it (\(missing.count) missing)")
    }
    if let name = unexpected.sorted().first {
      throw .doesNotFit(path: path, reason: "it has \(quoted("model." + name)), which the model lacks")
    }
    for entry in own where shape(entry.name)! != entry.tensor.shape {
      throw .doesNotFit(
        path: path,
        reason: "\(quoted(entry.name)) has shape \(shape(entry.name)!), the model's \(entry.tensor.shape)")
    }
    let dropouts = dropoutModules()
    guard Set(dropouts.map(\.name)) == Set(contents.moduleGenerators.keys) else {
      throw .doesNotFit(
        path: path,
        reason:
          "its dropout generators (\(contents.moduleGenerators.keys.sorted())) are not the model's dropout "
          + "layers (\(dropouts.map(\.name)))")
    }
    // The optimizers, undone if one of them refuses its state.
    let previous = optimizers.map { ($0.stateTensors(), $0.learningRate) }
    for (k, optimizer) in optimizers.enumerated() {
      do {
        try optimizer.loadStateTensors(contents.optimizerStates[k])
        optimizer.learningRate = contents.learningRates[k]
      } catch {
        for (j, earlier) in optimizers.enumerated().prefix(k) {
          try? earlier.loadStateTensors(previous[j].0)
          earlier.learningRate = previous[j].1
        }
        throw .doesNotFit(path: path, reason: "optimizer \(k): \(error)")
      }
    }
    do {
      _ = try model.loadState(contents.model, integers: contents.modelIntegers, strict: true)
    } catch {
      throw .doesNotFit(path: path, reason: error.description)  // unreachable: checked above
    }
    for (name, dropout) in dropouts { dropout.generator = contents.moduleGenerators[name]! }
  }

  // MARK: Shared by writing and reading

  /// The model's dropout layers with their module names.
  private func dropoutModules() -> [(name: String, module: Dropout<Scalar>)] {
    model.namedModules.compactMap { name, module in (module as? Dropout<Scalar>).map { (name, $0) } }
  }

  /// The tensor name of the generator of the dropout layer named `name`.
  static func moduleGeneratorName(_ name: String) -> String {
    name.isEmpty ? "rng.module" : "rng.module." + name
  }

  /// The running CRC-32 of the entries (name, dtype, shape, offsets) and the metadata other than
  /// `checksum`, in name order; the data continues it.
  static func describingCRC(entries: [String: SafeTensorsEntry], metadata: [String: String]) -> UInt32 {
    var text = ""
    for name in entries.keys.sorted() {
      let entry = entries[name]!
      text +=
        "\(name.utf8.count):\(name) \(entry.dtype.rawValue) \(entry.shape) "
        + "\(entry.byteRange.lowerBound) \(entry.byteRange.upperBound)\n"
    }
    for key in metadata.keys.sorted() where key != "checksum" {
      text += "\(key.utf8.count):\(key) \(metadata[key]!.utf8.count):\(metadata[key]!)\n"
    }
    return Array(text.utf8).withUnsafeBytes { Zlib.crc32($0) }
  }

  /// `crc32:` and eight hex digits.
  static func checksumText(_ crc: UInt32) -> String {
    let hex = String(crc, radix: 16)
    return "crc32:" + String(repeating: "0", count: 8 - hex.count) + hex
  }
}

/// A training checkpoint read and validated, not yet restored: what ``TrainingCheckpoint`` puts
/// back into a model and its optimizers.
struct TrainingCheckpointContents<Scalar: TensorScalar> {
  /// The file's path, for errors.
  let path: String
  /// The loop's state.
  let state: TrainingState
  /// The model's real tensors, by state-dict name (without the `model.` prefix).
  let model: [String: Tensor<Scalar>]
  /// The model's integer buffers (I64, exact), by state-dict name.
  let modelIntegers: [String: (shape: [Int], values: [Int64])]
  /// Each optimizer's state, by its own key names.
  let optimizerStates: [[String: Tensor<Scalar>]]
  /// Each optimizer's learning rate.
  let learningRates: [Double]
  /// The dropout layers' generators, by module name.
  let moduleGenerators: [String: SeededGenerator]
  /// The file's metadata.
  let metadata: [String: String]

  /// Validates `bytes` as a complete, unchanged training checkpoint of `Scalar` tensors and decodes
  /// it: the safetensors structure, the format, the checksum, and every entry's name, dtype and shape.
  init(bytes: [UInt8], path: String, as _: Scalar.Type) throws(TrainingCheckpointError) {
    let file: SafeTensorsFile
    do {
      file = try SafeTensorsFile(bytes: bytes, path: path)
    } catch {
      throw .invalid(path: path, reason: Self.reason(error))
    }
    let metadata = file.metadata
    guard metadata["format"] == TrainingCheckpoint<Scalar>.formatName else {
      throw .invalid(
        path: path,
        reason:
          "its metadata has no format \"\(TrainingCheckpoint<Scalar>.formatName)\" (a model file, not a "
          + "training checkpoint?)")
    }
    guard metadata["format_version"] == "1" else {
      throw .invalid(
        path: path, reason: "format_version \(metadata["format_version"].map(quoted) ?? "missing"), not 1")
    }
    var crc = TrainingCheckpoint<Scalar>.describingCRC(entries: file.entries, metadata: metadata)
    let dataStart = 8 + file.headerLength
    crc = bytes.withUnsafeBytes {
      Zlib.crc32(UnsafeRawBufferPointer(rebasing: $0[dataStart...]), continuing: crc)
    }
    guard let stored = metadata["checksum"], stored == TrainingCheckpoint<Scalar>.checksumText(crc) else {
      throw .invalid(
        path: path,
        reason: "the checksum \(metadata["checksum"].map(quoted) ?? "is missing"); the bytes are "
          + "\(TrainingCheckpoint<Scalar>.checksumText(crc)): the file changed after it was written")
    }
    guard let optimizerCount = metadata["optimizers"].flatMap({ Int($0) }),
      (0...10_000).contains(optimizerCount)
    else {
      throw .invalid(
        path: path,
        reason: "the metadata's optimizer count \(metadata["optimizers"].map(quoted) ?? "is missing")")
    }

    let scalarDType: SafeTensorsDType = Scalar.self == Float.self ? .F32 : .F64
    var model: [String: Tensor<Scalar>] = [:]
    var modelIntegers: [String: (shape: [Int], values: [Int64])] = [:]
    var optimizerStates = [[String: Tensor<Scalar>]](repeating: [:], count: optimizerCount)
    var learningRates = [Double?](repeating: nil, count: optimizerCount)
    var moduleGenerators: [String: SeededGenerator] = [:]
    var generators: [String: SeededGenerator] = [:]
    var values: [String: Double] = [:]
    var counters: [String: Int] = [:]
    var loopGenerators: [String: SeededGenerator] = [:]

    func fail(_ name: String, _ reason: String) -> TrainingCheckpointError {
      .invalid(path: path, reason: "tensor \(quoted(name)) \(reason)")
    }
    func decode(_ body: () throws(CheckpointError) -> Void) throws(TrainingCheckpointError) {
      do { try body() } catch { throw .invalid(path: path, reason: Self.reason(error)) }
    }
    func generator(_ name: String, _ entry: SafeTensorsEntry) throws(TrainingCheckpointError)
      -> SeededGenerator
    {
      guard entry.dtype == .I64, entry.shape == [4] else {
        throw fail(name, "is \(entry.dtype.rawValue) \(entry.shape); a generator is I64 [4]")
      }
      var words: [Int64] = []
      try decode { () throws(CheckpointError) in words = try file.integers(name).values }
      guard let generator = SeededGenerator(state: words.map { UInt64(bitPattern: $0) }) else {
        throw fail(name, "is all zeros, not a generator's state")
      }
      return generator
    }
    func scalarDouble(_ name: String, _ entry: SafeTensorsEntry) throws(TrainingCheckpointError) -> Double {
      guard entry.dtype == .F64, entry.shape == [] else {
        throw fail(name, "is \(entry.dtype.rawValue) \(entry.shape), not an F64 scalar")
      }
      var value = 0.0
      try decode { () throws(CheckpointError) in value = try file.tensor(name, as: Double.self).scalars[0] }
      return value
    }

    for (name, entry) in file.entries {
      let parts = name.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
      let rest = parts.count == 2 ? String(parts[1]) : ""
      switch parts[0] {
      case "model" where !rest.isEmpty:
        if entry.dtype.isFloatingPoint {
          guard entry.dtype == scalarDType else {
            throw .doesNotFit(
              path: path,
              reason: "\(quoted(name)) is \(entry.dtype.rawValue); this model keeps \(scalarDType.rawValue)")
          }
          try decode { () throws(CheckpointError) in model[rest] = try file.tensor(name, as: Scalar.self) }
        } else {
          guard entry.dtype == .I64 else {
            throw fail(name, "is \(entry.dtype.rawValue), neither a float nor I64")
          }
          try decode { () throws(CheckpointError) in modelIntegers[rest] = try file.integers(name) }
        }
      case "optimizer":
        let pieces = rest.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard pieces.count == 2, let k = Int(pieces[0]), (0..<optimizerCount).contains(k), !pieces[1].isEmpty
        else {
          throw fail(name, "names no optimizer 0..<\(optimizerCount)")
        }
        if pieces[1] == "learning_rate" {
          learningRates[k] = try scalarDouble(name, entry)
        } else {
          guard entry.dtype == scalarDType else {
            throw .doesNotFit(
              path: path,
              reason:
                "\(quoted(name)) is \(entry.dtype.rawValue); this optimizer keeps \(scalarDType.rawValue)")
          }
          try decode { () throws(CheckpointError) in
            optimizerStates[k][String(pieces[1])] = try file.tensor(name, as: Scalar.self)
          }
        }
      case "loop":
        guard ["step", "epoch", "batch_in_epoch"].contains(rest) else {
          throw fail(name, "is not a loop counter")
        }
        guard entry.dtype == .I64, entry.shape == [] else {
          throw fail(name, "is \(entry.dtype.rawValue) \(entry.shape), not an I64 scalar")
        }
        var value: Int64 = 0
        try decode { () throws(CheckpointError) in value = try file.integers(name).values[0] }
        guard value >= 0 else { throw fail(name, "is negative (\(value))") }
        counters[rest] = Int(value)
      case "rng":
        if rest == "loop" || rest == "epoch" {
          loopGenerators[rest] = try generator(name, entry)
        } else if rest == "module" {
          moduleGenerators[""] = try generator(name, entry)
        } else if rest.hasPrefix("module.") {
          moduleGenerators[String(rest.dropFirst(7))] = try generator(name, entry)
        } else if rest.hasPrefix("named."), rest.count > 6 {
          generators[String(rest.dropFirst(6))] = try generator(name, entry)
        } else {
          throw fail(name, "is not a generator this format knows")
        }
      case "value" where !rest.isEmpty:
        values[rest] = try scalarDouble(name, entry)
      default:
        throw fail(name, "is not part of a training checkpoint")
      }
    }
    for counter in ["step", "epoch", "batch_in_epoch"] where counters[counter] == nil {
      throw .invalid(path: path, reason: "the tensor \"loop.\(counter)\" is missing")
    }
    guard let loop = loopGenerators["loop"], let epoch = loopGenerators["epoch"] else {
      throw .invalid(path: path, reason: "the generators \"rng.loop\" and \"rng.epoch\" are missing")
    }
    if let k = learningRates.firstIndex(of: nil) {
      throw .invalid(path: path, reason: "the tensor \"optimizer.\(k).learning_rate\" is missing")
    }
    var state = TrainingState(generator: loop)
    state.epochGenerator = epoch
    state.step = counters["step"]!
    state.epoch = counters["epoch"]!
    state.batchInEpoch = counters["batch_in_epoch"]!
    state.generators = generators
    state.values = values
    self.path = path
    self.state = state
    self.model = model
    self.modelIntegers = modelIntegers
    self.optimizerStates = optimizerStates
    self.learningRates = learningRates.map { $0! }
    self.moduleGenerators = moduleGenerators
    self.metadata = metadata
  }

  /// A reader's error without its leading path (the checkpoint error names the path already).
  static func reason(_ error: CheckpointError) -> String {
    let text = error.description
    if let range = text.range(of: ": ") { return String(text[range.upperBound...]) }
    return text
  }
}
