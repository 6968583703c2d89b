import AwesomegradDistributed
import CMPI
import Foundation
import Testing

/// The context needs MPI_THREAD_SERIALIZED (it may be called from different threads, one at a
/// time, as Swift concurrency moves a task between threads). It asks `MPI_Init_thread` for it and,
/// when the application initialised MPI itself, asks `MPI_Query_thread`; a lower level is a typed
/// `DistributedError.threadSupport`, never ignored.
@Suite struct MPIThreadLevelTests {
  /// The application calls plain `MPI_Init` first, which Open MPI initialises at
  /// MPI_THREAD_SINGLE; `Distributed.initialize(.mpi)` must refuse that level. Run in a child
  /// process (an exit test): MPI starts as a singleton there, and can start only once per process.
  @Test func anApplicationsSingleThreadedMPIIsRefused() async {
    await #expect(processExitsWith: .exitCode(0)) {
      setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1)
      setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1)
      guard MPI_Init(nil, nil) == MPI_SUCCESS else { exit(10) }
      var provided: Int32 = -1
      guard MPI_Query_thread(&provided) == MPI_SUCCESS, provided == MPI_THREAD_SINGLE else { exit(11) }
      let outcome: Int32
      do {
        _ = try Distributed.initialize(.mpi)
        outcome = 1  // accepted a level it cannot use
      } catch DistributedError.threadSupport(let call, let required, let provided) {
        outcome =
          call == "MPI_Query_thread" && required == "MPI_THREAD_SERIALIZED" && provided == "MPI_THREAD_SINGLE"
          ? 0 : 2
      } catch {
        outcome = 3
      }
      _ = MPI_Finalize()
      exit(outcome)
    }
  }

  /// The description says what was asked, what MPI gave, and what to do.
  @Test func theErrorSaysWhatToDo() {
    let error = DistributedError.threadSupport(
      call: "MPI_Init_thread", required: "MPI_THREAD_SERIALIZED", provided: "MPI_THREAD_FUNNELED")
    #expect(
      error.description
        == "MPI_Init_thread: this MPI provides MPI_THREAD_FUNNELED, but the context needs "
        + "MPI_THREAD_SERIALIZED (its collectives may run on any thread, one at a time). Use an MPI "
        + "built with thread support (Open MPI has it by default), and if the application calls "
        + "MPI_Init itself, call MPI_Init_thread with MPI_THREAD_SERIALIZED or higher instead.")
  }
}
