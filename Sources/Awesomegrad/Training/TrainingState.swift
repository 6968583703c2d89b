/// Where a training loop stands: everything besides the model and the optimizers that a resumed run
/// needs to continue exactly as if it had never stopped. A ``TrainingCheckpoint`` saves it with the
/// model and the optimizers' state.
///
/// - `step`: the optimizer steps taken. A ``LearningRateSchedule`` is a function of the step, so
///   this is the schedule's state too (each optimizer's current learning rate is saved as well).
/// - `epoch`, `batchInEpoch`: the data sampler's position, the epochs finished and the batches of
///   the current epoch already trained.
/// - `epochGenerator`: the sampler's shuffle seed, the loop's generator as it was when the current
///   epoch's order was drawn, so that a resumed run draws the same order.
/// - `generator`, `generators`: every random generator the loop draws from (batches, evaluation,
///   sampling). Dropout layers keep their own generators, which the checkpoint finds in the model.
/// - `values`: the loop's own numbers to carry over (running sums of a loss, elapsed time).
///
/// ```swift
/// var state = TrainingState(generator: SeededGenerator(seed: 0))
/// while state.epoch < epochs {
///   let batches = state.epochBatches(count: n, batchSize: 64)   // this epoch's order
///   for indices in batches.dropFirst(state.batchInEpoch) {      // the batches not yet trained
///     …                                                         // one optimizer step
///     state.finishStep()
///   }
///   state.finishEpoch()
/// }
/// ```
public struct TrainingState: Sendable, Equatable {
  /// The optimizer steps taken so far.
  public var step = 0
  /// The epochs finished.
  public var epoch = 0
  /// The batches of the current epoch already trained: the sampler's position.
  public var batchInEpoch = 0
  /// The loop's generator: batches, evaluation batches, sampling.
  public var generator: SeededGenerator
  /// The generator as it was when the current epoch's order was drawn (the shuffle's seed); see
  /// ``epochBatches(count:batchSize:shuffle:dropLast:file:line:)``.
  public var epochGenerator: SeededGenerator
  /// Any other generators the loop keeps, by name.
  public var generators: [String: SeededGenerator] = [:]
  /// Numbers of the loop's own to carry over, by name.
  public var values: [String: Double] = [:]

  /// The state before the first step, with the loop's generator.
  public init(generator: SeededGenerator) {
    self.generator = generator
    epochGenerator = generator
  }

  /// The current epoch's mini-batches of the indices `0..<count`, all of them, in the epoch's order:
  /// skip the first ``batchInEpoch``, which are trained already.
  ///
  /// At the start of an epoch (``batchInEpoch`` is 0) the order is drawn from ``generator``, after
  /// keeping the generator's state as ``epochGenerator``. Inside an epoch (after a resume) it is drawn
  /// again from a copy of ``epochGenerator``: the same order, and ``generator`` is left where the
  /// saved run had it. Call it once per epoch.
  public mutating func epochBatches(
    count: Int, batchSize: Int, shuffle: Bool = true, dropLast: Bool = false,
    file: StaticString = #fileID, line: UInt = #line
  ) -> MiniBatches {
    if batchInEpoch == 0 {
      epochGenerator = generator
      return MiniBatches(
        count: count, batchSize: batchSize, shuffle: shuffle, dropLast: dropLast, using: &generator,
        file: file, line: line)
    }
    var replay = epochGenerator
    return MiniBatches(
      count: count, batchSize: batchSize, shuffle: shuffle, dropLast: dropLast, using: &replay, file: file,
      line: line)
  }

  /// Counts one optimizer step of the current epoch.
  public mutating func finishStep() {
    step += 1
    batchInEpoch += 1
  }

  /// Counts the current epoch as finished; the next one starts at batch 0.
  public mutating func finishEpoch() {
    epoch += 1
    batchInEpoch = 0
  }
}
