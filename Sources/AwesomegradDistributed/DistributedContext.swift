import CMPI
import Foundation

/// Entry point of data-parallel training: starts MPI (or a one-process stand-in) and returns the
/// ``DistributedContext`` that every collective goes through.
///
/// ```swift
/// let context = try Distributed.initialize()          // rank 0 of 1 without mpirun
/// try context.broadcastParameters(of: model.parameters)
/// for indices in MiniBatches(count: n, batchSize: b * context.size, using: &rng).sharded(for: context) {
///   optimizer.zeroGrad()
///   crossEntropy(model(x(indices)), labels: y(indices)).backward()   // the loss is a batch mean
///   try context.averageGradients(of: model.parameters)
///   optimizer.step()
/// }
/// try context.onRankZero { try save(model) }
/// try context.finalize()
/// ```
public enum Distributed {
  /// How ``initialize(_:timeout:)`` decides whether to start MPI.
  public enum LaunchMode: Sendable {
    /// MPI when a launcher (`mpirun`, `srun`) started this process (``isLaunchedByMPI``); otherwise
    /// one process without MPI: rank 0 of 1, where every collective is the identity.
    case automatic
    /// Always `MPI_Init`. Without a launcher Open MPI starts as a singleton (size 1), which forks a
    /// helper daemon; use it to test the MPI path in one process.
    case mpi
    /// Never MPI: rank 0 of 1.
    case singleProcess
  }

  /// Whether a launcher started this process as a rank of an MPI job: `mpirun` (Open MPI sets
  /// `OMPI_COMM_WORLD_SIZE`), a PMIx launcher (`PMIX_RANK`) or a PMI-1/2 launcher (`PMI_RANK`).
  public static var isLaunchedByMPI: Bool {
    let environment = ProcessInfo.processInfo.environment
    return ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"].contains { environment[$0] != nil }
  }

  /// Starts the distributed runtime and returns its context.
  ///
  /// Before `MPI_Init`, a rank that Open MPI's `mpirun` started gets the transport settings a job on
  /// one machine needs, where the user set none (an `OMPI_MCA_<name>` variable, `mpirun --mca`, or an
  /// Open MPI parameter file always wins): shared memory between the ranks of a host without CMA
  /// (`btl_vader_single_copy_mechanism=none`); a bandwidth-optimal `MPI_Iallreduce`
  /// (`coll_libnbc_iallreduce_algorithm=rabenseifner`: Open MPI's default for 2 or 3 ranks sends the
  /// buffer twice in turn); `btl=self,vader` and `pml=ob1` when every rank is on this host; and every
  /// CPU again for a rank that mpirun bound to one core by default (no `--bind-to`, `--cpu-set` or
  /// `--map-by …:PE=n` given). ``DistributedContext/transport`` lists what was chosen and by whom, and
  /// ``DistributedContext/description`` says it in a line.
  ///
  /// With MPI: calls `MPI_Init_thread` requesting `MPI_THREAD_SERIALIZED` (call the context from one
  /// thread at a time) and checks the level MPI `provided` (`MPI_Query_thread` when the application
  /// initialised MPI itself), then sets `MPI_ERRORS_RETURN` on `MPI_COMM_WORLD` so that a failing call returns an
  /// error instead of killing the job silently, and works on a duplicate of the world communicator,
  /// so that its messages never mix with the application's own MPI traffic. A failure inside
  /// `MPI_Init` itself is reported by Open MPI, which then aborts: MPI has no error handler yet.
  ///
  /// - Parameters:
  ///   - mode: whether to start MPI (see ``LaunchMode``).
  ///   - timeout: how long any collective may wait for the other ranks before it throws
  ///     ``DistributedError/timeout(call:seconds:rank:size:)``; nil waits forever. Open MPI has no
  ///     timeout for a collective that a peer never joins, so the context enforces this one itself.
  /// - Throws: ``DistributedError/invalidUse(call:detail:)`` when called twice in a process (MPI can
  ///   be initialised only once), ``DistributedError/threadSupport(call:required:provided:)`` when MPI
  ///   runs below `MPI_THREAD_SERIALIZED`, ``DistributedError/mpi(call:code:message:)`` when MPI fails.
  public static func initialize(
    _ mode: LaunchMode = .automatic, timeout: Duration? = .seconds(600)
  ) throws(DistributedError) -> DistributedContext {
    let useMPI: Bool
    switch mode {
    case .automatic: useMPI = isLaunchedByMPI
    case .mpi: useMPI = true
    case .singleProcess: useMPI = false
    }
    if let timeout, timeout <= .zero {
      throw .invalidUse(
        call: "Distributed.initialize", detail: "the timeout must be positive, got \(timeout)")
    }
    if useMPI {
      guard Lifecycle.shared.claim() else {
        throw .invalidUse(
          call: "Distributed.initialize",
          detail: "MPI was already initialised in this process; keep and reuse the first context")
      }
      var initialized: Int32 = 0
      try mpiCheck(MPI_Initialized(&initialized), "MPI_Initialized")
      let transport = initialized == 0 ? TransportDefaults.apply() : []
      let context = try DistributedContext(mpiWithTimeout: timeout)
      context.transport = transport
      return context
    }
    return DistributedContext(singleProcessWithTimeout: timeout)
  }
}

/// MPI can be initialised once per process; this remembers whether it was.
final class Lifecycle: @unchecked Sendable {
  static let shared = Lifecycle()
  private let lock = NSLock()
  private var claimed = false

  /// True the first time only.
  func claim() -> Bool {
    lock.lock()
    defer { lock.unlock() }
    if claimed { return false }
    claimed = true
    return true
  }
}

/// Counters of the communication a context has done, for benchmarks and logs.
public struct CommunicationStatistics: Sendable, Equatable {
  /// Calls of ``DistributedContext/averageGradients(of:)`` that communicated (size > 1).
  public var gradientAverages = 0
  /// Allreduce collectives issued (one per fused window).
  public var allreduceCalls = 0
  /// Payload bytes of those allreduces: the size of each fused buffer. With a ring allreduce each rank
  /// sends and receives 2·(size − 1)/size times this.
  public var allreduceBytes = 0
  /// Wall time spent in ``DistributedContext/averageGradients(of:)`` (packing, allreduce, unpacking).
  public var gradientAverageSeconds = 0.0
  /// Payload bytes broadcast by ``DistributedContext/broadcastParameters(of:root:)``.
  public var broadcastBytes = 0

  /// Zero counters.
  public init() {}
}

/// How ``DistributedContext/averageGradients(of:)`` sums the fused gradients over the ranks.
public enum GradientReduction: Sendable {
  /// Horovod's hierarchical allreduce: the ranks of one machine sum through an MPI shared-memory window
  /// (`MPI_Win_allocate_shared`; each rank adds up one slice of every rank's buffer), then one rank per
  /// machine allreduces the machine sums over the network (`MPI_Iallreduce`), and every rank reads
  /// the result from shared memory. No gradient is copied between the processes of one machine.
  case hierarchical
  /// One `MPI_Iallreduce` over all ranks per fused window.
  case mpi
}

/// The reduction of ``DistributedContext/allreduce(_:_:)``.
public enum ReductionOperation: Sendable {
  /// The element-wise sum over ranks.
  case sum
  /// The element-wise maximum over ranks.
  case max
}

/// One process's handle on a data-parallel job: its rank, the number of ranks, and the collectives
/// (broadcast, gradient averaging, barrier) that keep the ranks' models identical.
///
/// Every rank must make the same calls in the same order (they are collectives). Without MPI the
/// context is rank 0 of 1 and every collective returns at once, so one program serves both cases.
/// Call it from one thread at a time.
public final class DistributedContext {
  /// This process's index, 0 ..< ``size``.
  public let rank: Int
  /// The number of processes in the job.
  public let size: Int
  /// This process's index among the ranks on the same machine (from `MPI_Comm_split_type` with
  /// `MPI_COMM_TYPE_SHARED`; the value of `OMPI_COMM_WORLD_LOCAL_RANK` under `mpirun`). Use it to
  /// pick a device or a core set per process.
  public let localRank: Int
  /// The number of ranks on this machine.
  public let localSize: Int
  /// The number of machines (groups of ranks that share memory) in the job.
  public let nodeCount: Int
  /// Whether MPI carries the collectives (false for the one-process stand-in).
  public let usesMPI: Bool
  /// How long a collective may wait for the other ranks before throwing; nil waits forever.
  public var timeout: Duration?
  /// The most bytes one fused allreduce carries (Horovod's `HOROVOD_FUSION_THRESHOLD`, 64 MiB by
  /// default). Gradients are packed into one buffer per scalar type up to this size; more are sent in
  /// successive windows of at most this size. Must be at least the size of one scalar.
  public var fusionThresholdBytes = 64 << 20
  /// The most bytes of the first bucket of ``averageGradients(of:overlapping:)``, which holds the
  /// last parameters (PyTorch DDP's first bucket, 1 MiB): small, so that communication starts early.
  public var firstBucketBytes = 1 << 20
  /// The most bytes of each later bucket of ``averageGradients(of:overlapping:)``: 1 MiB. PyTorch
  /// DDP's `bucket_cap_mb` is 25 MiB, sized for GPUs where each collective has a high fixed cost; here
  /// it put the Fashion-MNIST CNN's convolutions in one bucket with its largest layer, which could then
  /// start only at the end of backward (0.94× of averaging after backward between two hosts over
  /// 1 Gbit/s, against 1.16–1.25× with 1 MiB).
  public var bucketBytes = 1 << 20
  /// How often a second thread lets MPI progress the buckets that
  /// ``averageGradients(of:overlapping:)`` has started while backward computes (Open MPI moves a
  /// non-blocking collective only inside MPI calls); nil leaves that to the backward hook's calls. The
  /// default, 100 µs, costs a few microseconds of a core per poll.
  public var progressInterval: Duration? = .microseconds(100)
  /// What this context has communicated so far.
  public var statistics = CommunicationStatistics()
  /// The Open MPI settings that decide how the ranks talk, with their values and who chose them (see
  /// ``Distributed/initialize(_:timeout:)``); empty without MPI, or when MPI was started before
  /// ``Distributed/initialize(_:timeout:)``.
  public internal(set) var transport: [TransportSetting] = []
  /// How ``averageGradients(of:)`` sums: ``GradientReduction/hierarchical`` by default. Set it to the
  /// same value on every rank, between calls.
  public var gradientReduction = GradientReduction.hierarchical

  /// Rank 0: the rank that prints, writes checkpoints and broadcasts its parameters.
  public var isRoot: Bool { rank == 0 }

  /// The private duplicate of `MPI_COMM_WORLD`, or nil without MPI or after ``finalize()``.
  var communicator: MPI_Comm?
  /// The ranks of this machine (or of a simulated machine, see ``init(mpiWithTimeout:)``).
  var nodeCommunicator: MPI_Comm?
  /// Local rank 0 of every machine; nil on the other ranks.
  var leaderCommunicator: MPI_Comm?
  /// One shared-memory window per scalar type for ``GradientReduction/hierarchical``, keyed by the type.
  var sharedWindows: [ObjectIdentifier: SharedWindow] = [:]
  private var isFinalized = false
  /// One fusion buffer per scalar type, grown on demand, keyed by the type.
  private var fusionBuffers: [ObjectIdentifier: (base: UnsafeMutableRawPointer, bytes: Int)] = [:]
  /// Parameter-list layouts every rank has been checked to share.
  private var verifiedLayouts: Set<UInt64> = []

  init(singleProcessWithTimeout timeout: Duration?) {
    (rank, size, localRank, localSize, nodeCount) = (0, 1, 0, 1, 1)
    usesMPI = false
    self.timeout = timeout
  }

  /// Starts MPI. The ranks sharing memory form a node (`MPI_Comm_split_type` with
  /// `MPI_COMM_TYPE_SHARED`); for tests of the multi-machine path on one machine,
  /// `AWESOMEGRAD_DISTRIBUTED_RANKS_PER_NODE=k` groups consecutive ranks into nodes of k instead.
  init(mpiWithTimeout timeout: Duration?) throws(DistributedError) {
    var initialized: Int32 = 0
    try mpiCheck(MPI_Initialized(&initialized), "MPI_Initialized")
    // The level MPI gives, from MPI_Init_thread or, when the application initialised MPI itself
    // (perhaps with plain MPI_Init, MPI_THREAD_SINGLE), from MPI_Query_thread: never assumed.
    var provided: Int32 = -1
    let levelCall = initialized == 0 ? "MPI_Init_thread" : "MPI_Query_thread"
    if initialized == 0 {
      try mpiCheck(MPI_Init_thread(nil, nil, MPIThreadLevel.required.rawValue, &provided), levelCall)
    } else {
      try mpiCheck(MPI_Query_thread(&provided), levelCall)
    }
    try MPIThreadLevel.check(provided: provided, call: levelCall)
    let world = awesomegrad_mpi_comm_world()
    try mpiCheck(MPI_Comm_set_errhandler(world, awesomegrad_mpi_errors_return()), "MPI_Comm_set_errhandler")
    var communicator: MPI_Comm? = nil
    try mpiCheck(MPI_Comm_dup(world, &communicator), "MPI_Comm_dup")
    try mpiCheck(
      MPI_Comm_set_errhandler(communicator, awesomegrad_mpi_errors_return()), "MPI_Comm_set_errhandler")
    var rank: Int32 = 0, size: Int32 = 0
    try mpiCheck(MPI_Comm_rank(communicator, &rank), "MPI_Comm_rank")
    try mpiCheck(MPI_Comm_size(communicator, &size), "MPI_Comm_size")
    // The ranks sharing this machine's memory: the local rank and size.
    var local: MPI_Comm? = nil
    let environment = ProcessInfo.processInfo.environment
    if let text = environment["AWESOMEGRAD_DISTRIBUTED_RANKS_PER_NODE"], let perNode = Int32(text),
      perNode > 0
    {
      try mpiCheck(MPI_Comm_split(communicator, rank / perNode, rank, &local), "MPI_Comm_split (nodes)")
    } else {
      try mpiCheck(
        MPI_Comm_split_type(
          communicator, Int32(MPI_COMM_TYPE_SHARED), rank, awesomegrad_mpi_info_null(), &local),
        "MPI_Comm_split_type")
    }
    var localRank: Int32 = 0, localSize: Int32 = 0
    try mpiCheck(MPI_Comm_rank(local, &localRank), "MPI_Comm_rank")
    try mpiCheck(MPI_Comm_size(local, &localSize), "MPI_Comm_size")
    // Local rank 0 of each node joins the leaders; the number of leaders is the number of nodes.
    var leaders: MPI_Comm? = nil
    try mpiCheck(
      MPI_Comm_split(communicator, localRank == 0 ? 0 : MPI_UNDEFINED, rank, &leaders),
      "MPI_Comm_split (leaders)")
    var isLeader: Int32 = localRank == 0 ? 1 : 0, nodes: Int32 = 0
    try mpiCheck(
      MPI_Allreduce(&isLeader, &nodes, 1, awesomegrad_mpi_int32(), awesomegrad_mpi_sum(), communicator),
      "MPI_Allreduce (node count)")
    self.communicator = communicator
    nodeCommunicator = local
    leaderCommunicator = leaders == awesomegrad_mpi_comm_null() ? nil : leaders
    (self.rank, self.size) = (Int(rank), Int(size))
    (self.localRank, self.localSize, nodeCount) = (Int(localRank), Int(localSize), Int(nodes))
    usesMPI = true
    self.timeout = timeout
  }

  deinit {
    // No MPI_Finalize here: it synchronises with the other ranks and would hang on an error path.
    for (base, _) in fusionBuffers.values { base.deallocate() }
  }

  // MARK: Lifecycle

  /// Ends MPI for this process (`MPI_Finalize`) after a barrier, so that no rank leaves while another
  /// still talks to it. Call it once, on every rank, at the end of a successful run; after an error call
  /// ``abort(code:)`` instead. Later collectives throw ``DistributedError/invalidUse(call:detail:)``.
  public func finalize() throws(DistributedError) {
    try checkActive("finalize")
    if let communicator {
      try barrier()
      try freeSharedWindows()
      for var handle in [nodeCommunicator, leaderCommunicator, communicator] where handle != nil {
        try mpiCheck(MPI_Comm_free(&handle), "MPI_Comm_free")
      }
      (self.communicator, nodeCommunicator, leaderCommunicator) = (nil, nil, nil)
      try mpiCheck(MPI_Finalize(), "MPI_Finalize")
    }
    isFinalized = true
  }

  /// Ends every rank of the job with exit status `code` (`MPI_Abort`; `mpirun` reports which rank
  /// aborted). Without MPI, exits this process.
  public func abort(code: Int32 = 1) -> Never {
    if usesMPI && !isFinalized {
      _ = MPI_Abort(communicator ?? awesomegrad_mpi_comm_world(), code)
    }
    exit(code)
  }

  // MARK: Collectives

  /// Returns once every rank has called `barrier()` (`MPI_Ibarrier`, waited on under ``timeout``).
  public func barrier() throws(DistributedError) {
    try checkActive("barrier")
    guard let communicator, size > 1 else { return }
    var request: MPI_Request? = nil
    try mpiCheck(MPI_Ibarrier(communicator, &request), "MPI_Ibarrier")
    try mpiWait(&request, call: "MPI_Ibarrier", timeout: timeout, rank: rank, size: size)
  }

  /// Runs `body` on rank 0 only and returns its result there (nil on other ranks); for checkpoints and
  /// logs. Not a collective: follow it with ``barrier()`` when the other ranks must wait for the
  /// result (for example, to read the checkpoint).
  public func onRankZero<R>(_ body: () throws -> R) rethrows -> R? {
    isRoot ? try body() : nil
  }

  /// The element-wise sum or maximum of `values` over all ranks, on every rank: for metrics such as
  /// the summed loss and sample count of an epoch. `values` must have the same count on every rank.
  public func allreduce(_ values: [Double], _ operation: ReductionOperation) throws(DistributedError)
    -> [Double]
  {
    try checkActive("allreduce")
    guard let communicator, size > 1, !values.isEmpty else { return values }
    var result = values
    let op = operation == .sum ? awesomegrad_mpi_sum() : awesomegrad_mpi_max()
    try allreduceArray(
      &result, datatype: awesomegrad_mpi_double(), op: op, communicator: communicator,
      call: "MPI_Iallreduce (allreduce)")
    return result
  }

  // MARK: Internals shared by the collectives

  /// Throws unless the context can still communicate.
  func checkActive(_ call: String) throws(DistributedError) {
    if isFinalized {
      throw .invalidUse(
        call: call, detail: "the context was finalized; make every collective call before finalize()")
    }
  }

  /// `MPI_Iallreduce` of `count` elements at `base`, in place, waited on under the timeout.
  func allreduceInPlace(
    _ base: UnsafeMutableRawPointer, count: Int, datatype: MPI_Datatype?, op: MPI_Op?, communicator: MPI_Comm,
    call: String
  ) throws(DistributedError) {
    guard count <= Int(Int32.max) else {
      throw .invalidUse(call: call, detail: "\(count) elements exceed MPI's count limit of \(Int32.max)")
    }
    var request: MPI_Request? = nil
    try mpiCheck(
      MPI_Iallreduce(
        UnsafeRawPointer(awesomegrad_mpi_in_place()), base, Int32(count), datatype, op, communicator, &request
      ),
      call)
    try mpiWait(&request, call: call, timeout: timeout, rank: rank, size: size)
  }

  /// ``allreduceInPlace(_:count:datatype:op:communicator:call:)`` of a small array, through a copy
  /// (the array's own pointer is only lent to closures that cannot throw a typed error).
  func allreduceArray<T>(
    _ values: inout [T], datatype: MPI_Datatype?, op: MPI_Op?, communicator: MPI_Comm, call: String
  ) throws(DistributedError) {
    let count = values.count
    let copy = UnsafeMutablePointer<T>.allocate(capacity: count)
    defer { copy.deallocate() }
    copy.initialize(from: values, count: count)
    try allreduceInPlace(
      copy, count: count, datatype: datatype, op: op, communicator: communicator, call: call)
    values = Array(UnsafeBufferPointer(start: copy, count: count))
    copy.deinitialize(count: count)
  }

  /// `MPI_Ibcast` of `count` elements at `base` from `root`, waited on under the timeout.
  func broadcastInPlace(
    _ base: UnsafeMutableRawPointer, count: Int, datatype: MPI_Datatype?, root: Int, communicator: MPI_Comm,
    call: String
  ) throws(DistributedError) {
    guard count <= Int(Int32.max) else {
      throw .invalidUse(call: call, detail: "\(count) elements exceed MPI's count limit of \(Int32.max)")
    }
    var request: MPI_Request? = nil
    try mpiCheck(MPI_Ibcast(base, Int32(count), datatype, Int32(root), communicator, &request), call)
    try mpiWait(&request, call: call, timeout: timeout, rank: rank, size: size)
  }

  /// This context's fusion buffer for `Scalar`, with room for at least `count` scalars.
  func fusionBuffer<Scalar>(_: Scalar.Type, count: Int) -> UnsafeMutablePointer<Scalar> {
    let key = ObjectIdentifier(Scalar.self)
    let bytes = count * MemoryLayout<Scalar>.stride
    if let existing = fusionBuffers[key], existing.bytes >= bytes {
      return existing.base.assumingMemoryBound(to: Scalar.self)
    }
    fusionBuffers[key]?.base.deallocate()
    let base = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
    base.bindMemory(to: Scalar.self, capacity: count)
    fusionBuffers[key] = (base, bytes)
    return base.assumingMemoryBound(to: Scalar.self)
  }

  /// Checks once per distinct layout that every rank passes parameter lists of the same shapes, so
  /// that a mismatch is a ``DistributedError/mismatch(call:detail:)`` on every rank rather than
  /// corrupted sums or a hang. `shapes` are the tensors' shapes in order.
  func verifySameLayout(_ shapes: [[Int]], call: String) throws(DistributedError) {
    guard let communicator, size > 1 else { return }
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a: deterministic across processes, unlike Hasher
    func mix(_ value: Int) {
      for byte in 0..<8 {
        hash ^= UInt64(truncatingIfNeeded: value >> (8 * byte)) & 0xff
        hash = hash &* 0x100_0000_01b3
      }
    }
    var elements = 0
    for shape in shapes {
      mix(-1)
      for axis in shape { mix(axis) }
      elements += shape.reduce(1, *)
    }
    guard !verifiedLayouts.contains(hash) else { return }
    // One MPI_MAX over (x, ~x) gives max x and ~min x: all ranks agree when they coincide.
    let local: [Int64] = [Int64(shapes.count), Int64(elements), Int64(bitPattern: hash)]
    var values = local + local.map { ~$0 }
    try allreduceArray(
      &values, datatype: awesomegrad_mpi_int64(), op: awesomegrad_mpi_max(), communicator: communicator,
      call: "MPI_Iallreduce (\(call): layout check)")
    let maxima = values[0..<3], minima = values[3..<6].map { ~$0 }
    if Array(maxima) != minima {
      var parts: [String] = []
      if maxima[0] != minima[0] { parts.append("between \(minima[0]) and \(maxima[0]) parameter tensors") }
      if maxima[1] != minima[1] { parts.append("between \(minima[1]) and \(maxima[1]) scalars") }
      if parts.isEmpty { parts.append("parameter tensors of different shapes") }
      throw .mismatch(
        call: call,
        detail: parts.joined(separator: ", ")
          + " (rank \(rank) has \(shapes.count) tensors, \(elements) scalars)")
    }
    verifiedLayouts.insert(hash)
  }
}
