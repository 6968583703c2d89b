import Awesomegrad
import CMPI

/// An MPI shared-memory window of the ranks of one node: `localSize` slots of `capacity` scalars, one
/// per local rank, then one result area of `capacity` scalars. Local rank 0 allocates it all, so it is
/// one contiguous region that every local rank addresses directly.
final class SharedWindow {
  let window: MPI_Win?
  let base: UnsafeMutableRawPointer
  /// Scalars per slot.
  let capacity: Int

  init(window: MPI_Win?, base: UnsafeMutableRawPointer, capacity: Int) {
    (self.window, self.base, self.capacity) = (window, base, capacity)
  }
}

extension DistributedContext {
  /// This node's shared window for `Scalar` with at least `capacity` scalars per slot, made (a
  /// collective over the node's ranks) on first use and when it must grow.
  func sharedWindow<Scalar>(_: Scalar.Type, capacity: Int) throws(DistributedError) -> SharedWindow {
    let key = ObjectIdentifier(Scalar.self)
    if let existing = sharedWindows[key], existing.capacity >= capacity { return existing }
    if let existing = sharedWindows.removeValue(forKey: key) { try free(existing) }
    let stride = MemoryLayout<Scalar>.stride
    let bytes = localRank == 0 ? (localSize + 1) * capacity * stride : 0
    var window: MPI_Win? = nil
    var mine: UnsafeMutableRawPointer? = nil
    let code = withUnsafeMutablePointer(to: &mine) { pointer in
      MPI_Win_allocate_shared(
        bytes, Int32(stride), awesomegrad_mpi_info_null(), nodeCommunicator, pointer, &window)
    }
    try mpiCheck(code, "MPI_Win_allocate_shared (\((localSize + 1) * capacity * stride) bytes)")
    var size = 0, unit: Int32 = 0
    var base: UnsafeMutableRawPointer? = nil
    let query = withUnsafeMutablePointer(to: &base) { MPI_Win_shared_query(window, 0, &size, &unit, $0) }
    try mpiCheck(query, "MPI_Win_shared_query")
    try mpiCheck(MPI_Win_lock_all(MPI_MODE_NOCHECK, window), "MPI_Win_lock_all")
    guard let base, size >= (localSize + 1) * capacity * stride else {
      throw .mpi(call: "MPI_Win_shared_query", code: 0, message: "the shared window has \(size) bytes")
    }
    let shared = SharedWindow(window: window, base: base, capacity: capacity)
    sharedWindows[key] = shared
    return shared
  }

  /// Frees every shared window (a collective over each node).
  func freeSharedWindows() throws(DistributedError) {
    for key in Array(sharedWindows.keys) { try free(sharedWindows.removeValue(forKey: key)!) }
  }

  private func free(_ shared: SharedWindow) throws(DistributedError) {
    var window = shared.window
    try mpiCheck(MPI_Win_unlock_all(window), "MPI_Win_unlock_all")
    try mpiCheck(MPI_Win_free(&window), "MPI_Win_free")
  }

  /// Where this rank packs its part of the fused vector, and where every rank reads the sum.
  func slots<Scalar>(_ shared: SharedWindow, _: Scalar.Type) -> (
    mine: UnsafeMutablePointer<Scalar>, sum: UnsafeMutablePointer<Scalar>
  ) {
    let base = shared.base.assumingMemoryBound(to: Scalar.self)
    return (base + localRank * shared.capacity, base + localSize * shared.capacity)
  }

  /// Sums the first `count` scalars of every local rank's slot into the result area, then, across
  /// nodes, allreduces the node sums between the node leaders. On return the result area holds
  /// Σ over all ranks, in the same bits on every rank: slot 0 + slot 1 + … in order on each node.
  ///
  /// Each local rank adds up one contiguous slice. Barriers (`MPI_Win_sync` around `MPI_Ibarrier`, as
  /// MPI's shared-memory model asks) separate packing, summing and reading, so a slot is rewritten
  /// only after every rank has finished reading the previous sum.
  func reduceThroughSharedMemory<Scalar: TensorScalar>(
    _ shared: SharedWindow, _: Scalar.Type, count: Int, datatype: MPI_Datatype?, call: String
  ) throws(DistributedError) {
    try nodeBarrier(shared, call: call)  // every slot is packed
    let base = shared.base.assumingMemoryBound(to: Scalar.self), capacity = shared.capacity
    let sum = base + localSize * capacity
    let slice = (count + localSize - 1) / localSize
    let lower = Swift.min(count, localRank * slice), upper = Swift.min(count, lower + slice)
    if lower < upper {
      (sum + lower).update(from: base + lower, count: upper - lower)
      for slot in 1..<localSize {
        let source = base + slot * capacity
        for i in lower..<upper { sum[i] += source[i] }
      }
    }
    if nodeCount > 1 {
      try nodeBarrier(shared, call: call)  // this node's sum is complete
      if let leaderCommunicator {
        try allreduceInPlace(
          sum, count: count, datatype: datatype, op: awesomegrad_mpi_sum(), communicator: leaderCommunicator,
          call: "MPI_Iallreduce (\(call): between nodes)")
      }
    }
    try nodeBarrier(shared, call: call)  // the sum is complete
  }

  /// A barrier of the node's ranks that also orders their memory accesses to the window.
  private func nodeBarrier(_ shared: SharedWindow, call: String) throws(DistributedError) {
    try mpiCheck(MPI_Win_sync(shared.window), "MPI_Win_sync (\(call))")
    var request: MPI_Request? = nil
    try mpiCheck(MPI_Ibarrier(nodeCommunicator, &request), "MPI_Ibarrier (\(call): node)")
    try mpiWait(&request, call: "MPI_Ibarrier (\(call): node)", timeout: timeout, rank: rank, size: size)
    try mpiCheck(MPI_Win_sync(shared.window), "MPI_Win_sync (\(call))")
  }
}
