import Awesomegrad
import CMPI

/// The elements of one parameter that this rank updates under a ``ZeroRedundancyOptimizer``.
public struct ParameterShard<Scalar: TensorScalar> {
  /// The whole parameter, for choosing per-parameter settings (weight decay on matrices only:
  /// `parameter.rank >= 2`).
  public let parameter: Tensor<Scalar>
  /// Which of its elements, as flat (row-major) indices.
  public let elements: Range<Int>
  /// This rank's copy of those elements, `[elements.count]`: the tensor the inner optimizer steps.
  public let values: Tensor<Scalar>
}

/// ZeRO stage 1 (PyTorch's `ZeroRedundancyOptimizer`, DeepSpeed's stage 1): every rank keeps the whole
/// model but updates, and holds optimizer state for, only its 1/size of the parameters' elements.
///
///     let optimizer = try ZeroRedundancyOptimizer(model.parameters, context: context) { shards in
///       Adam(shards.map(\.values), learningRate: 1e-3)
///     }
///     optimizer.zeroGrad(); loss.backward(); try optimizer.step()   // no averageGradients
///
/// The parameters' elements, in order, are cut into `size` contiguous ranges; rank r's range becomes
/// ``shards`` (one ``ParameterShard`` per parameter it touches), and the closure builds the inner
/// optimizer over their `values`. ``step()`` then
///
/// 1. packs every gradient into this rank's slot of the machine's shared window (as
///    ``DistributedContext/averageGradients(of:)`` does) and waits for the other ranks;
/// 2. averages only its own range, ḡ = (1/size)·Σ_r g_r, into the shards' gradients (the same sums, in
///    the same order, as `averageGradients`) and copies the current parameter values into the shards;
/// 3. steps the inner optimizer: 1/size of the update's work and memory;
/// 4. writes its updated range into the window, waits for the other ranks, and copies every range
///    back into the parameters.
///
/// Element-wise optimizers (SGD with momentum, Adam, AdamW) then give exactly the parameters of an
/// unsharded run. One that couples elements (clipping by the global norm) would see only its shard:
/// clip before ``step()`` instead, on the averaged gradients, or do not shard.
///
/// Sharding runs where every rank shares one machine's memory (one node, at most four ranks, the
/// hierarchical reduction). Elsewhere ``shards`` are the whole parameters, and ``step()`` averages the
/// gradients with ``DistributedContext/averageGradients(of:)`` and steps them all on every rank, with
/// the same result. The optimizer state stays on its rank: it is not part of a checkpoint.
public final class ZeroRedundancyOptimizer<Scalar: TensorScalar> {
  /// Every parameter of the model, in the order given (the same on every rank).
  public let parameters: [Tensor<Scalar>]
  /// The elements this rank updates.
  public let shards: [ParameterShard<Scalar>]
  /// The optimizer over the shards' values, made by the closure given at creation.
  public let optimizer: any Optimizer<Scalar>
  /// Whether this rank updates only its shard (one machine), or every parameter (elsewhere).
  public let isSharded: Bool
  private let context: DistributedContext
  /// Where each parameter's gradient starts in the fused vector, after the holder counts.
  private let offsets: [Int]
  private let shardOwners: [Int]

  /// The inner optimizer's learning rate, for schedules.
  public var learningRate: Double {
    get { optimizer.learningRate }
    set { optimizer.learningRate = newValue }
  }

  /// Shards `parameters` over the ranks of `context` and builds the inner optimizer over this
  /// rank's shards with `makeOptimizer`. A collective: every rank calls it with the same shapes.
  ///
  /// - Throws: ``DistributedError/mismatch(call:detail:)`` when the ranks' lists differ,
  ///   ``DistributedError/invalidUse(call:detail:)`` for a tensor listed twice, and MPI errors.
  public init(
    _ parameters: [Tensor<Scalar>], context: DistributedContext,
    optimizer makeOptimizer: ([ParameterShard<Scalar>]) -> any Optimizer<Scalar>
  ) throws(DistributedError) {
    let call = "ZeroRedundancyOptimizer"
    try context.checkActive(call)
    var seen = Set<ObjectIdentifier>()
    for (index, parameter) in parameters.enumerated() where !seen.insert(ObjectIdentifier(parameter)).inserted {
      throw .invalidUse(call: call, detail: "parameter \(index) (\(parameter.shape)) is listed twice")
    }
    try context.verifySameLayout(parameters.map(\.shape), call: call)
    self.parameters = parameters
    self.context = context
    var offsets: [Int] = [], total = 0
    for parameter in parameters {
      offsets.append(total)
      total += parameter.count
    }
    self.offsets = offsets
    isSharded =
      context.size > 1 && context.nodeCount == 1 && context.localSize <= directSumLimit
      && context.gradientReduction == .hierarchical
    var shards: [ParameterShard<Scalar>] = [], owners: [Int] = []
    if isSharded {
      let lower = total * context.rank / context.size, upper = total * (context.rank + 1) / context.size
      for (index, parameter) in parameters.enumerated() {
        let start = Swift.max(lower, offsets[index]), end = Swift.min(upper, offsets[index] + parameter.count)
        guard start < end else { continue }
        let elements = (start - offsets[index])..<(end - offsets[index])
        let values = Tensor<Scalar>.zeros([elements.count], requiresGrad: true)
        shards.append(ParameterShard(parameter: parameter, elements: elements, values: values))
        owners.append(index)
      }
    } else {
      shards = parameters.map { ParameterShard(parameter: $0, elements: 0..<$0.count, values: $0) }
      owners = Array(parameters.indices)
    }
    self.shards = shards
    shardOwners = owners
    optimizer = makeOptimizer(shards)
  }

  /// Clears every parameter's gradient (and the shards').
  public func zeroGrad() {
    for parameter in parameters { parameter.zeroGrad() }
    if isSharded { for shard in shards { shard.values.zeroGrad() } }
  }

  /// Averages the gradients over the ranks and updates every parameter, each rank stepping its shard
  /// (see the type's description). Call it on every rank after `backward()`, instead of
  /// `averageGradients` and `step()`.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func step() throws(DistributedError) {
    guard isSharded else {
      try context.averageGradients(of: parameters)
      optimizer.step()
      return
    }
    let call = "ZeroRedundancyOptimizer.step"
    try context.checkActive(call)
    let clock = ContinuousClock()
    let start = clock.now
    let flagCount = parameters.count
    let total = flagCount + (offsets.last.map { $0 + parameters.last!.count } ?? 0)
    let datatype = try context.mpiDatatype(Scalar.self, call: call)
    let shared = try context.sharedWindow(Scalar.self, capacity: total)
    // 1. Pack: holder counts, then every gradient (zeros where there is none).
    let slot = context.packingSlot(shared, Scalar.self)
    for (index, parameter) in parameters.enumerated() {
      let destination = slot + flagCount + offsets[index]
      let copied: Void? = parameter.withGradient { gradient in
        destination.update(from: gradient.baseAddress!, count: gradient.count)
      }
      if copied == nil { destination.update(repeating: 0, count: parameter.count) }
      slot[index] = copied == nil ? 0 : 1
    }
    let summed = try context.reduceThroughSharedMemory(
      shared, Scalar.self, count: total, datatype: datatype, call: call)
    // 2. This rank's range: averaged gradients and current values into the shards.
    let divisor = Scalar(context.size)
    var holders = [Scalar](repeating: 0, count: flagCount)
    for index in 0..<flagCount { holders[index] = summed.value(index) }
    for (shard, index) in zip(shards, shardOwners) {
      let count = shard.elements.count
      shard.values.updateValues { values in
        shard.parameter.storage.withUnsafeBufferPointer { source in
          values.baseAddress!.update(from: source.baseAddress! + shard.elements.lowerBound, count: count)
        }
      }
      guard holders[index] > 0 else {
        shard.values.zeroGrad()
        continue
      }
      if shard.values.withGradient({ _ in }) == nil {
        shard.values.setGradient([Scalar](repeating: 0, count: count))
      }
      shard.values.withGradientBuffer { gradient in
        summed.average(
          into: gradient.baseAddress!, from: flagCount + offsets[index] + shard.elements.lowerBound, count: count,
          divisor: divisor)
      }
    }
    // 3. The update of this rank's range.
    optimizer.step()
    // 4. Publish it, wait for every range, and read them all back.
    let result = shared.base.assumingMemoryBound(to: Scalar.self) + 2 * context.localSize * shared.capacity
    for (shard, index) in zip(shards, shardOwners) {
      shard.values.storage.withUnsafeBufferPointer { values in
        (result + offsets[index] + shard.elements.lowerBound).update(from: values.baseAddress!, count: values.count)
      }
    }
    try context.nodeBarrier(shared, call: call)
    for (index, parameter) in parameters.enumerated() where holders[index] > 0 {
      parameter.updateValues { values in
        values.baseAddress!.update(from: result + offsets[index], count: values.count)
      }
    }
    context.statistics.allreduceCalls += 1
    context.statistics.allreduceBytes += total * MemoryLayout<Scalar>.stride
    context.statistics.gradientAverages += 1
    let elapsed = start.duration(to: clock.now).components
    context.statistics.gradientAverageSeconds += Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
  }
}
