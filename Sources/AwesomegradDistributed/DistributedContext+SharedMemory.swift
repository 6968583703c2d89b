import Awesomegrad
import CMPI

/// An MPI shared-memory window of the ranks of one node: two sets of `localSize` slots of `capacity`
/// scalars (one slot per local rank; successive reductions alternate between the sets), then one
/// result area of `capacity` scalars. Local rank 0 allocates it all, so it is one contiguous region
/// that every local rank addresses directly.
final class SharedWindow {
  let window: MPI_Win?
  let base: UnsafeMutableRawPointer
  /// Scalars per slot.
  let capacity: Int
  /// Reductions done through this window; its parity picks the set of slots.
  var reductions = 0

  init(window: MPI_Win?, base: UnsafeMutableRawPointer, capacity: Int) {
    (self.window, self.base, self.capacity) = (window, base, capacity)
  }
}

/// The most ranks of a single node that each add up all the slots themselves (one barrier per
/// reduction) rather than one slice each (two barriers): reading every slot costs localSize passes
/// over the buffer per rank, which stays cheaper than a barrier for a few ranks.
let directSumLimit = 4

/// Where the sum of one reduced window can be read.
enum SummedWindow<Scalar: TensorScalar> {
  /// The sum itself.
  case sum(UnsafeMutablePointer<Scalar>)
  /// Every rank's summand, to add up in order: slots[0] + slots[1] + ….
  case slots([UnsafeMutablePointer<Scalar>])

  /// Element `i` of the sum.
  @inline(__always)
  func value(_ i: Int) -> Scalar {
    switch self {
    case .sum(let sum): return sum[i]
    case .slots(let slots):
      var value = slots[0][i]
      for slot in slots.dropFirst() { value += slot[i] }
      return value
    }
  }

  /// destination[j] = sum[offset + j] / divisor for j in 0..<count.
  @inline(__always)
  func average(into destination: UnsafeMutablePointer<Scalar>, from offset: Int, count: Int, divisor: Scalar)
  {
    switch self {
    case .sum(let sum):
      let source = sum + offset
      for j in 0..<count { destination[j] = source[j] / divisor }
    case .slots(let slots) where slots.count == 1:
      let source = slots[0] + offset
      for j in 0..<count { destination[j] = source[j] / divisor }
    case .slots(let slots) where slots.count == 2:
      // One pass (the common case of two ranks on a machine): the same sum and quotient as below.
      let first = slots[0] + offset, second = slots[1] + offset
      for j in 0..<count { destination[j] = (first[j] + second[j]) / divisor }
    case .slots(let slots):
      let first = slots[0] + offset, second = slots[1] + offset
      for j in 0..<count { destination[j] = first[j] + second[j] }
      for slot in slots.dropFirst(2) {
        let source = slot + offset
        for j in 0..<count { destination[j] += source[j] }
      }
      for j in 0..<count { destination[j] /= divisor }
    }
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
    let total = (2 * localSize + 1) * capacity * stride
    let bytes = localRank == 0 ? total : 0
    var window: MPI_Win? = nil
    var mine: UnsafeMutableRawPointer? = nil
    let code = withUnsafeMutablePointer(to: &mine) { pointer in
      MPI_Win_allocate_shared(
        bytes, Int32(stride), awesomegrad_mpi_info_null(), nodeCommunicator, pointer, &window)
    }
    try mpiCheck(code, "MPI_Win_allocate_shared (\(total) bytes)")
    var size = 0, unit: Int32 = 0
    var base: UnsafeMutableRawPointer? = nil
    let query = withUnsafeMutablePointer(to: &base) { MPI_Win_shared_query(window, 0, &size, &unit, $0) }
    try mpiCheck(query, "MPI_Win_shared_query")
    try mpiCheck(MPI_Win_lock_all(MPI_MODE_NOCHECK, window), "MPI_Win_lock_all")
    guard let base, size >= total else {
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

  /// Where this rank packs its part of the fused vector for the next reduction.
  func packingSlot<Scalar>(_ shared: SharedWindow, _: Scalar.Type) -> UnsafeMutablePointer<Scalar> {
    let set = shared.reductions % 2
    return shared.base.assumingMemoryBound(to: Scalar.self) + (set * localSize + localRank) * shared.capacity
  }

  /// Sums the first `count` scalars of every local rank's slot over all ranks, in the same bits on
  /// every rank: slot 0 + slot 1 + … in order on each node, then the nodes' sums by MPI_Iallreduce.
  ///
  /// On one node with at most ``directSumLimit`` ranks, one barrier suffices: every rank then reads all
  /// the slots and adds them up itself while unpacking (`.slots`). The slots alternate between two
  /// sets, so a rank packing the next reduction never overwrites a slot another rank is still reading
  /// (to pack reduction k + 2 into a set, a rank must have passed the barrier of k + 1, which every
  /// rank reaches only after reading reduction k). Otherwise each rank adds up one slice into the
  /// result area, the node leaders allreduce it across nodes, and a last barrier publishes it (`.sum`).
  /// The barriers are `MPI_Win_sync` around `MPI_Ibarrier`, as MPI's shared-memory model asks.
  func reduceThroughSharedMemory<Scalar: TensorScalar>(
    _ shared: SharedWindow, _: Scalar.Type, count: Int, datatype: MPI_Datatype?, call: String
  ) throws(DistributedError) -> SummedWindow<Scalar> {
    let base = shared.base.assumingMemoryBound(to: Scalar.self), capacity = shared.capacity
    let slots = (0..<localSize).map { base + ((shared.reductions % 2) * localSize + $0) * capacity }
    shared.reductions += 1
    try nodeBarrier(shared, call: call)  // every slot is packed
    if nodeCount == 1 && localSize <= directSumLimit { return .slots(slots) }
    let sum = base + 2 * localSize * capacity
    let slice = (count + localSize - 1) / localSize
    let lower = Swift.min(count, localRank * slice), upper = Swift.min(count, lower + slice)
    if lower < upper {
      (sum + lower).update(from: slots[0] + lower, count: upper - lower)
      for source in slots.dropFirst() {
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
    return .sum(sum)
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
