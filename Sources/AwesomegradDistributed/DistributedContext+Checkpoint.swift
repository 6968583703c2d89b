import Awesomegrad
import CMPI

/// Resumable data-parallel training: the ranks' models, optimizers and loop states are the same
/// (every rank takes the same averaged step from the same seed), so rank 0 alone writes the
/// checkpoints, rank 0 alone reads the newest one and sends its bytes to the others, and the ranks
/// agree on the step at which to stop.
///
/// ```swift
/// let checkpoints = CheckpointDirectory("runs/ddp")
/// if let resumed = try context.resume(checkpoint, from: checkpoints) { state = resumed.state }
/// let stop = StopSignal()
/// for indices in … {
///   …                                                         // one averaged step
///   state.finishStep()
///   let stopping = try context.anyRank(stop.isRequested)      // the same answer on every rank
///   if stopping || state.step % 100 == 0 { try context.save(checkpoint, state, in: checkpoints) }
///   if stopping { break }
/// }
/// ```
extension DistributedContext {
  /// Whether `flag` is true on any rank, on every rank (one allreduce of one number): so that all
  /// ranks stop at the same step when a signal reached only some of them.
  public func anyRank(_ flag: Bool) throws(DistributedError) -> Bool {
    try allreduce([flag ? 1 : 0], .max)[0] > 0
  }

  /// Rank 0 writes the checkpoint of `state` into `directory`; every rank returns the path or throws
  /// the same error. Call it on every rank at the same step (it is a collective).
  ///
  /// - Throws: ``TrainingCheckpointError/unwritable(path:reason:)`` on every rank when rank 0 could
  ///   not write it (the earlier checkpoints are intact; the loop decides whether to stop), and
  ///   ``DistributedError`` when the ranks cannot communicate.
  @discardableResult
  public func save<Scalar>(
    _ checkpoint: TrainingCheckpoint<Scalar>, _ state: TrainingState, in directory: CheckpointDirectory,
    metadata: [String: String] = [:]
  ) throws -> String {
    let path = directory.filePath(step: state.step)
    var failure: TrainingCheckpointError?
    if isRoot {
      do {
        try directory.save(checkpoint, state, metadata: metadata)
      } catch {
        failure = error
      }
    }
    let failed = try allreduce([failure == nil ? 0 : 1], .max)[0] > 0
    if let failure { throw failure }
    if failed { throw TrainingCheckpointError.unwritable(path: path, reason: "rank 0 could not write it") }
    return path
  }

  /// Rank 0 finds the newest complete and valid checkpoint in `directory` (skipping torn or corrupt
  /// files with a warning) and sends it to every rank, and every rank restores it into `checkpoint`'s
  /// model and optimizers; returns the loop's state and the file's path, or nil on every rank when
  /// there is none. Only rank 0 needs to see the folder. Call it on every rank (it is a collective).
  ///
  /// - Throws: the errors of ``CheckpointDirectory/resume(_:warning:)`` (on every rank when the file
  ///   does not fit the model), and ``DistributedError``.
  public func resume<Scalar>(
    _ checkpoint: TrainingCheckpoint<Scalar>, from directory: CheckpointDirectory,
    warning: (String) -> Void = CheckpointDirectory.printWarning
  ) throws -> (state: TrainingState, path: String)? {
    var file: (path: String, bytes: [UInt8])?
    var failure: (any Error)?
    if isRoot {
      do {
        file = try directory.newestValidFile(as: Scalar.self, warning: warning).map { ($0.path, $0.bytes) }
      } catch {
        failure = error
      }
    }
    // What rank 0 found: -2 for an error, -1 for nothing, else the path's and the file's lengths.
    var lengths: [Int64] = [
      failure != nil ? -2 : file == nil ? -1 : Int64(file!.path.utf8.count), Int64(file?.bytes.count ?? 0),
    ]
    try broadcastWords(&lengths, call: "resume")
    if let failure { throw failure }
    if lengths[0] == -2 {
      throw TrainingCheckpointError.unreadableDirectory(
        path: directory.path, reason: "rank 0 could not read it")
    }
    if lengths[0] == -1 { return nil }
    guard lengths[0] >= 0, lengths[1] >= 0, lengths[0] <= Int64(Int32.max), lengths[1] <= Int64(Int.max / 2)
    else {
      throw DistributedError.mismatch(call: "resume", detail: "rank 0 sent the sizes \(lengths)")
    }
    var payload = isRoot ? Array(file!.path.utf8) + file!.bytes : []
    try broadcastBytes(&payload, count: Int(lengths[0]) + Int(lengths[1]), call: "resume")
    let path = String(decoding: payload[..<Int(lengths[0])], as: UTF8.self)
    let state = try checkpoint.load(bytes: Array(payload[Int(lengths[0])...]), path: path)
    return (state, path)
  }

  /// Broadcasts a few 64-bit integers from rank 0.
  private func broadcastWords(_ words: inout [Int64], call: String) throws(DistributedError) {
    try checkActive(call)
    guard let communicator, size > 1 else { return }
    let count = words.count
    let buffer = UnsafeMutablePointer<Int64>.allocate(capacity: count)
    defer { buffer.deallocate() }
    buffer.initialize(from: words, count: count)
    try broadcastInPlace(
      buffer, count: count, datatype: awesomegrad_mpi_int64(), root: 0, communicator: communicator,
      call: "MPI_Ibcast (\(call))")
    words = Array(UnsafeBufferPointer(start: buffer, count: count))
  }

  /// Broadcasts `count` bytes from rank 0 (sent as 64-bit words, in windows MPI's count limit allows);
  /// `bytes` is rank 0's data and becomes it on the other ranks.
  private func broadcastBytes(_ bytes: inout [UInt8], count: Int, call: String) throws(DistributedError) {
    try checkActive(call)
    guard let communicator, size > 1 else { return }
    let words = (count + 7) / 8
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: words * 8, alignment: 8)
    defer { buffer.deallocate() }
    buffer.initializeMemory(as: UInt8.self, repeating: 0, count: words * 8)
    if isRoot && count > 0 {
      bytes.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: count) }
    }
    var start = 0
    while start < words {
      let window = Swift.min(words - start, Int(Int32.max))
      try broadcastInPlace(
        buffer + start * 8, count: window, datatype: awesomegrad_mpi_int64(), root: 0,
        communicator: communicator, call: "MPI_Ibcast (\(call))")
      start += window
    }
    statistics.broadcastBytes += words * 8
    bytes = Array(UnsafeRawBufferPointer(start: buffer, count: count))
  }
}
