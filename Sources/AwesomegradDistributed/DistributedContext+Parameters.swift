import Awesomegrad
import CMPI

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

extension DistributedContext {
  /// Copies `root`'s parameter values to every rank, so that all ranks start from the same model
  /// (Horovod's `broadcast_parameters`). Call it on every rank after building the model and before
  /// the first step; optimizers made before it keep working, since values are updated in place (their
  /// state is still empty before the first step, so there is nothing else to broadcast).
  ///
  /// On `root` it is a read: its values' version counts do not change. On the other ranks it is an
  /// in-place write (``Tensor/updateValues(_:)``) of each tensor part whose bytes differ from
  /// `root`'s, and nothing where they are equal. So a re-sync of ranks that are in step may come
  /// between a forward pass and its backward; a rank whose values it did change stops that backward
  /// with the in-place-modification error, as it must.
  ///
  /// The values travel in fused windows of at most ``fusionThresholdBytes``.
  ///
  /// - Parameters:
  ///   - parameters: the model's parameters, the same shapes in the same order on every rank.
  ///   - root: the rank whose values win.
  /// - Throws: ``DistributedError/mismatch(call:detail:)`` (on every rank) when the ranks' lists differ,
  ///   ``DistributedError/invalidUse(call:detail:)`` for a root outside 0 ..< size, and MPI errors and
  ///   timeouts.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func broadcastParameters<Scalar: TensorScalar>(
    of parameters: [Tensor<Scalar>], root: Int = 0
  ) throws(DistributedError) {
    let call = "broadcastParameters"
    try checkActive(call)
    guard root >= 0 && root < size else {
      throw .invalidUse(call: call, detail: "root \(root) is not a rank of this job (0..<\(size))")
    }
    guard let communicator, size > 1 else { return }
    let datatype = try mpiDatatype(Scalar.self, call: call)
    try verifySameLayout(parameters.map(\.shape), call: call)
    let total = parameters.reduce(0) { $0 + $1.count }
    let capacity = try windowCapacity(Scalar.self, total: total, call: call)
    let buffer = fusionBuffer(Scalar.self, count: capacity)
    let stride = MemoryLayout<Scalar>.stride
    var windowStart = 0
    while windowStart < total {
      let windowEnd = Swift.min(total, windowStart + capacity)
      if rank == root {
        // A read, not a write: the root's values are copied out through the storage, so their
        // version count (and a graph recorded before the broadcast) is untouched.
        forEachPiece(of: parameters, window: windowStart..<windowEnd) { _, tensor, local, bufferOffset in
          tensor.storage.withUnsafeBufferPointer { values in
            (buffer + bufferOffset).update(from: values.baseAddress! + local.lowerBound, count: local.count)
          }
        }
      }
      try broadcastInPlace(
        buffer, count: windowEnd - windowStart, datatype: datatype, root: root, communicator: communicator,
        call: "MPI_Ibcast (\(call))")
      if rank != root {
        // A write only where the bytes change: a re-sync of ranks already in step leaves the version
        // counts alone, so a graph recorded before it can still be backpropagated on every rank.
        forEachPiece(of: parameters, window: windowStart..<windowEnd) { _, tensor, local, bufferOffset in
          let same = tensor.storage.withUnsafeBufferPointer { values in
            memcmp(values.baseAddress! + local.lowerBound, buffer + bufferOffset, local.count * stride) == 0
          }
          if same { return }
          tensor.updateValues { values in
            (values.baseAddress! + local.lowerBound).update(from: buffer + bufferOffset, count: local.count)
          }
        }
      }
      statistics.broadcastBytes += (windowEnd - windowStart) * MemoryLayout<Scalar>.stride
      windowStart = windowEnd
    }
  }

  /// Copies `root`'s values of `buffers` (the same shapes in the same order on every rank) to every
  /// rank, in one `MPI_Ibcast` of int64.
  func broadcastIntegers(_ buffers: [IntegerBuffer], root: Int) throws(DistributedError) {
    let call = "broadcastParameters (integer buffers)"
    try checkActive(call)
    guard let communicator, size > 1, !buffers.isEmpty else { return }
    try verifySameLayout(buffers.map(\.shape), call: call)
    var values =
      rank == root
      ? buffers.flatMap(\.values) : [Int64](repeating: 0, count: buffers.reduce(0) { $0 + $1.values.count })
    let count = values.count
    let copy = UnsafeMutablePointer<Int64>.allocate(capacity: Swift.max(count, 1))
    defer { copy.deallocate() }
    copy.initialize(from: values, count: count)
    try broadcastInPlace(
      copy, count: count, datatype: awesomegrad_mpi_int64(), root: root, communicator: communicator,
      call: "MPI_Ibcast (\(call))")
    values = Array(UnsafeBufferPointer(start: copy, count: count))
    var offset = 0
    for buffer in buffers {
      let n = buffer.values.count
      if rank != root { buffer.values = Array(values[offset..<offset + n]) }
      offset += n
    }
    statistics.broadcastBytes += count * MemoryLayout<Int64>.stride
  }

  /// Replaces every parameter's gradient by its mean over the ranks, ḡ = (1/size)·Σ_r g_r: call it on
  /// every rank after `backward()` and before `optimizer.step()` (Horovod's `DistributedOptimizer`,
  /// PyTorch's DDP). When each rank's loss is the mean over its own B samples, ḡ is exactly the
  /// gradient of the mean loss over all size·B samples, so the step equals one process's step at batch
  /// size·B (up to the rounding of the sums).
  ///
  /// Tensor fusion: the gradients are packed, last parameter first (the order in which backward
  /// completes them), into one buffer per scalar type, summed over the ranks per window of at most
  /// ``fusionThresholdBytes`` (see ``gradientReduction``: through shared memory within a machine and
  /// `MPI_Iallreduce` between machines, or `MPI_Iallreduce` alone), and unpacked divided by size.
  /// The sum is the same in every bit on every rank. A parameter without a gradient on
  /// some rank counts as zero there; one without a gradient on every rank keeps none (a count of the
  /// ranks holding each gradient travels in the same buffer).
  ///
  /// With one rank the gradients are left as they are. ``statistics`` records the calls, bytes and time.
  ///
  /// - Parameter parameters: the same shapes in the same order on every rank (checked on first use).
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func averageGradients<Scalar: TensorScalar>(of parameters: [Tensor<Scalar>]) throws(DistributedError)
  {
    let call = "averageGradients"
    try checkActive(call)
    guard let communicator, size > 1 else { return }
    let start = ContinuousClock.now
    let datatype = try mpiDatatype(Scalar.self, call: call)
    try verifySameLayout(parameters.map(\.shape), call: call)
    // The fused vector: one holder count per parameter, then the gradients, last parameter first.
    let flagCount = parameters.count
    let total = flagCount + parameters.reduce(0) { $0 + $1.count }
    let capacity = try windowCapacity(Scalar.self, total: total, call: call)
    // Pack into a private buffer that MPI reduces in place, or into this rank's slot of the node's
    // shared window.
    let shared =
      gradientReduction == .hierarchical ? try sharedWindow(Scalar.self, capacity: capacity) : nil
    let privateBuffer = shared == nil ? fusionBuffer(Scalar.self, count: capacity) : nil
    var holders = [Scalar](repeating: 0, count: flagCount)
    let divisor = Scalar(size)
    var windowStart = 0
    while windowStart < total {
      let windowEnd = Swift.min(total, windowStart + capacity)
      let window = windowStart..<windowEnd
      let buffer = shared.map { packingSlot($0, Scalar.self) } ?? privateBuffer!
      for flag in window.clamped(to: 0..<flagCount) {
        buffer[flag - windowStart] = parameters[flag].withGradient { _ in } == nil ? 0 : 1
      }
      forEachPiece(of: parameters, window: window, after: flagCount) { _, tensor, local, bufferOffset in
        packGradient(of: tensor, elements: local, into: buffer + bufferOffset)
      }
      let summed: SummedWindow<Scalar>
      if let shared {
        summed = try reduceThroughSharedMemory(
          shared, Scalar.self, count: window.count, datatype: datatype, call: call)
      } else {
        try allreduceInPlace(
          buffer, count: window.count, datatype: datatype, op: awesomegrad_mpi_sum(),
          communicator: communicator, call: "MPI_Iallreduce (\(call))")
        summed = .sum(buffer)
      }
      for flag in window.clamped(to: 0..<flagCount) { holders[flag] = summed.value(flag - windowStart) }
      // The holder counts come first in the vector, so they are known before any gradient is unpacked.
      forEachPiece(of: parameters, window: window, after: flagCount) { index, tensor, local, bufferOffset in
        guard holders[index] > 0 else { return }
        unpackAverage(summed, from: bufferOffset, into: tensor, elements: local, divisor: divisor)
      }
      statistics.allreduceCalls += 1
      statistics.allreduceBytes += window.count * MemoryLayout<Scalar>.stride
      windowStart = windowEnd
    }
    recordGradientAverage(since: start)
  }

  /// Counts one gradient average and the time since `start` in ``statistics``.
  func recordGradientAverage(since start: ContinuousClock.Instant) {
    statistics.gradientAverages += 1
    let elapsed = start.duration(to: ContinuousClock.now).components
    statistics.gradientAverageSeconds += Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
  }

  // MARK: Fused-vector bookkeeping

  /// `MPI_FLOAT` or `MPI_DOUBLE`.
  func mpiDatatype<Scalar>(_: Scalar.Type, call: String) throws(DistributedError) -> MPI_Datatype? {
    guard let datatype = MPIType.datatype(for: Scalar.self) else {
      throw .invalidUse(call: call, detail: "MPI has no datatype for \(Scalar.self); use Float or Double")
    }
    return datatype
  }

  /// The scalars one window holds: the fusion threshold in scalars, no more than the vector needs.
  private func windowCapacity<Scalar>(_: Scalar.Type, total: Int, call: String) throws(DistributedError)
    -> Int
  {
    let stride = MemoryLayout<Scalar>.stride
    guard fusionThresholdBytes >= stride else {
      throw .invalidUse(
        call: call,
        detail:
          "fusionThresholdBytes is \(fusionThresholdBytes); it must hold one \(Scalar.self) (\(stride) bytes)"
      )
    }
    return Swift.max(1, Swift.min(total, fusionThresholdBytes / stride, Int(Int32.max)))
  }

  /// Calls `body(index, tensor, elements, bufferOffset)` for each part of a tensor that falls in
  /// `window` of the fused vector, where the tensors follow `offset` scalars, last tensor first:
  /// `elements` are the tensor's indices in the window and `bufferOffset` where the first lands in the
  /// window's buffer.
  private func forEachPiece<Scalar>(
    of tensors: [Tensor<Scalar>], window: Range<Int>, after offset: Int = 0,
    _ body: (Int, Tensor<Scalar>, Range<Int>, Int) -> Void
  ) {
    var start = offset
    for (index, tensor) in tensors.enumerated().reversed() {
      let end = start + tensor.count
      defer { start = end }
      if end <= window.lowerBound { continue }
      if start >= window.upperBound { break }
      let lower = Swift.max(start, window.lowerBound), upper = Swift.min(end, window.upperBound)
      body(index, tensor, (lower - start)..<(upper - start), lower - window.lowerBound)
    }
  }
}

/// Copies the gradient elements `elements` of `tensor` to `destination`, or zeros when it has no
/// gradient (it counts as zero in the sum). Returns whether it had one.
@discardableResult
@inline(__always)
func packGradient<Scalar: TensorScalar>(
  of tensor: Tensor<Scalar>, elements: Range<Int>, into destination: UnsafeMutablePointer<Scalar>
) -> Bool {
  let copied: Void? = tensor.withGradient { gradient in
    destination.update(from: gradient.baseAddress! + elements.lowerBound, count: elements.count)
  }
  if copied == nil { destination.update(repeating: 0, count: elements.count) }
  return copied != nil
}

/// Replaces the gradient elements `elements` of `tensor` by the summed window's values from `offset`
/// on, divided by `divisor`; a tensor without a gradient gets a zero one first.
@inline(__always)
func unpackAverage<Scalar: TensorScalar>(
  _ summed: SummedWindow<Scalar>, from offset: Int, into tensor: Tensor<Scalar>, elements: Range<Int>,
  divisor: Scalar
) {
  if tensor.withGradient({ _ in }) == nil {
    tensor.setGradient([Scalar](repeating: 0, count: tensor.count))
  }
  tensor.withGradientBuffer { gradient in
    summed.average(
      into: gradient.baseAddress! + elements.lowerBound, from: offset, count: elements.count, divisor: divisor
    )
  }
}
