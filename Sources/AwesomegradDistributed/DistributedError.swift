/// A failure of a distributed operation: an MPI call that returned an error, a collective that did not
/// complete within the context's timeout, ranks that disagree, or a context used after `finalize()`.
///
/// Every case names the call. After an `.mpi` or `.timeout` error the ranks are no longer in step:
/// print the error and end every process with ``DistributedContext/abort(code:)``, which `mpirun`
/// turns into a message and a non-zero exit status for the whole job.
public enum DistributedError: Error, Equatable, CustomStringConvertible {
  /// `call` (an MPI function, e.g. `MPI_Iallreduce`) returned the error `code`, which Open MPI describes
  /// as `message`.
  case mpi(call: String, code: Int32, message: String)
  /// `call` did not complete within `seconds` on rank `rank` of `size`: another rank has stopped,
  /// hangs, or skipped this call.
  case timeout(call: String, seconds: Double, rank: Int, size: Int)
  /// The ranks called `call` with different arguments (for example parameter lists of different shapes).
  case mismatch(call: String, detail: String)
  /// `call` was used in a way the context does not allow (after `finalize()`, a second `initialize()`, a
  /// bad root rank, …).
  case invalidUse(call: String, detail: String)
  /// MPI runs at a thread-support level below the one the context needs: `call` (`MPI_Init_thread`,
  /// or `MPI_Query_thread` when the application initialised MPI) reported `provided`, such as
  /// `MPI_THREAD_SINGLE`, where `required` (`MPI_THREAD_SERIALIZED`) is needed.
  case threadSupport(call: String, required: String, provided: String)

  /// The error in a sentence: the call, what went wrong and what to do.
  public var description: String {
    switch self {
    case .mpi(let call, let code, let message):
      return "\(call) failed with MPI error \(code): \(message). The ranks are out of step; "
        + "end the job (DistributedContext.abort) and check the other ranks' output."
    case .timeout(let call, let seconds, let rank, let size):
      return "\(call) did not complete within \(formatSeconds(seconds)) on rank \(rank) of \(size): another "
        + "rank has stopped, hangs, or did not make the same call. End the job (DistributedContext.abort); "
        + "raise the timeout (Distributed.initialize(timeout:)) if a rank legitimately works this long alone."
    case .mismatch(let call, let detail):
      return "\(call): the ranks disagree: \(detail). Every rank must make the same calls with the same "
        + "parameter shapes, in the same order."
    case .invalidUse(let call, let detail):
      return "\(call): \(detail)"
    case .threadSupport(let call, let required, let provided):
      return "\(call): this MPI provides \(provided), but the context needs \(required) (its collectives "
        + "may run on any thread, one at a time). Use an MPI built with thread support (Open MPI has it "
        + "by default), and if the application calls MPI_Init itself, call MPI_Init_thread with "
        + "\(required) or higher instead."
    }
  }
}

/// `12 s`, `0.5 s`.
func formatSeconds(_ seconds: Double) -> String {
  seconds == seconds.rounded() ? "\(Int(seconds)) s" : "\(seconds) s"
}
