import CMPI

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

// The one doorway to Open MPI: every MPI call of the module goes through these helpers, which turn
// an error code into a `DistributedError` that names the call, and wait for non-blocking collectives
// under a deadline (Open MPI has no timeout of its own for a collective that a peer never joins).

/// The element types MPI reduces for us, and the handle of each.
enum MPIType {
  /// `MPI_FLOAT` or `MPI_DOUBLE` for `Scalar`, or nil for another type.
  static func datatype<Scalar>(for _: Scalar.Type) -> MPI_Datatype? {
    if Scalar.self == Float.self { return awesomegrad_mpi_float() }
    if Scalar.self == Double.self { return awesomegrad_mpi_double() }
    return nil
  }
}

/// MPI's thread-support levels, which the standard orders SINGLE < FUNNELED < SERIALIZED < MULTIPLE.
enum MPIThreadLevel {
  /// What the context needs: collectives called from any thread, one call at a time (a task may
  /// resume on another thread; the library's own pool threads never call MPI).
  static let required = Level(name: "MPI_THREAD_SERIALIZED", rawValue: Int32(MPI_THREAD_SERIALIZED))

  struct Level {
    let name: String
    let rawValue: Int32
  }

  /// The four levels, in increasing order.
  static let all = [
    Level(name: "MPI_THREAD_SINGLE", rawValue: Int32(MPI_THREAD_SINGLE)),
    Level(name: "MPI_THREAD_FUNNELED", rawValue: Int32(MPI_THREAD_FUNNELED)),
    required,
    Level(name: "MPI_THREAD_MULTIPLE", rawValue: Int32(MPI_THREAD_MULTIPLE)),
  ]

  /// Throws ``DistributedError/threadSupport(call:required:provided:)`` unless `provided` (what
  /// `call` reported) is the required level or above.
  static func check(provided: Int32, call: String) throws(DistributedError) {
    guard let rank = all.firstIndex(where: { $0.rawValue == provided }) else {
      throw .threadSupport(call: call, required: required.name, provided: "an unknown level (\(provided))")
    }
    if rank < all.firstIndex(where: { $0.rawValue == required.rawValue })! {
      throw .threadSupport(call: call, required: required.name, provided: all[rank].name)
    }
  }
}

/// Throws `.mpi(call:…)` when `code` is not `MPI_SUCCESS`, with Open MPI's text for the code.
@inline(__always)
func mpiCheck(_ code: Int32, _ call: @autoclosure () -> String) throws(DistributedError) {
  if code != MPI_SUCCESS { throw .mpi(call: call(), code: code, message: mpiErrorString(code)) }
}

/// `MPI_Error_string` of `code`, or a placeholder when MPI cannot describe it.
func mpiErrorString(_ code: Int32) -> String {
  var text = [CChar](repeating: 0, count: Int(MPI_MAX_ERROR_STRING) + 1)
  var length: Int32 = 0
  guard MPI_Error_string(code, &text, &length) == MPI_SUCCESS else { return "unknown error" }
  return String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Drives `request` to completion with `MPI_Test`, throwing `.timeout` once `timeout` has passed.
///
/// Blocking MPI calls spin in Open MPI's progress engine too, so polling costs nothing extra; it lets
/// a rank whose peer has died or skipped the call report that, instead of waiting forever. After the
/// first `spinPolls` polls (tens of microseconds, longer than a loopback allreduce of a small model)
/// each poll also yields the core (`sched_yield`): a rank waiting for a slower peer should not take
/// the CPU from that peer, or from anything else, when cores are shared.
/// Polls before ``mpiWait(_:call:timeout:rank:size:)`` starts yielding the core between polls.
let spinPolls = 2048

func mpiWait(
  _ request: inout MPI_Request?, call: String, timeout: Duration?, rank: Int, size: Int
) throws(DistributedError) {
  let clock = ContinuousClock()
  let deadline = timeout.map { clock.now.advanced(by: $0) }
  var done: Int32 = 0
  var polls = 0
  while true {
    try mpiCheck(MPI_Test(&request, &done, awesomegrad_mpi_status_ignore()), "MPI_Test (\(call))")
    if done != 0 { return }
    polls += 1
    if polls > spinPolls { sched_yield() }
    if let deadline, polls & 1023 == 0, clock.now >= deadline {
      // The request cannot be completed or safely freed; the caller is told to abort the job.
      let seconds = Double(timeout!.components.seconds) + Double(timeout!.components.attoseconds) * 1e-18
      throw .timeout(call: call, seconds: seconds, rank: rank, size: size)
    }
  }
}
