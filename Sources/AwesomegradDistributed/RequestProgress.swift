import CMPI
import Foundation

/// Non-blocking MPI requests that a second thread drives while the caller's thread computes.
///
/// Open MPI moves a non-blocking collective only inside MPI calls: the rounds of an `MPI_Iallreduce`
/// and the rendezvous of its large messages over TCP wait for the next `MPI_Test`. During backward
/// the hook runs only when a parameter's gradient is final, so a convolution's backward of several
/// milliseconds would pass without any; the thread calls `MPI_Test` on the started requests every
/// `interval` instead (Horovod and PyTorch's MPI backend also talk to MPI from their own thread).
/// Every MPI call of either thread happens under one lock, so that at most one thread is in MPI at a
/// time, as `MPI_THREAD_SERIALIZED` asks.
final class RequestProgress: @unchecked Sendable {
  private let lock = NSLock()
  /// Started requests by index; nil before one is started. Guarded by `lock`.
  private var requests: [MPI_Request?]
  /// Whether request i still needs testing. Guarded by `lock`.
  private var pending: [Bool]
  /// The first failing call and its code. Guarded by `lock`.
  private var failure: (call: String, code: Int32)?
  /// Set to end the thread. Guarded by `lock`.
  private var stopping = false
  private var thread: Thread?
  private let finished = DispatchSemaphore(value: 0)

  /// Room for `count` requests.
  init(count: Int) {
    requests = Array(repeating: nil, count: count)
    pending = Array(repeating: false, count: count)
  }

  /// Runs `launch` (which makes an MPI call, sets its request and returns its code) while no other
  /// thread is in MPI, and keeps the request as number `index`. Returns false, starting nothing, once
  /// any call has failed.
  @discardableResult
  func start(_ index: Int, call: String, _ launch: (inout MPI_Request?) -> Int32) -> Bool {
    lock.lock()
    defer { lock.unlock() }
    guard failure == nil else { return false }
    var request: MPI_Request? = nil
    let code = launch(&request)
    if code != MPI_SUCCESS {
      failure = (call, code)
      return false
    }
    requests[index] = request
    pending[index] = true
    return true
  }

  /// Tests every pending request once (`MPI_Test`), while no other thread is in MPI.
  func testPending() {
    lock.lock()
    defer { lock.unlock() }
    testPendingLocked()
  }

  private func testPendingLocked() {
    for index in requests.indices where pending[index] && failure == nil {
      var done: Int32 = 0
      let code = MPI_Test(&requests[index], &done, awesomegrad_mpi_status_ignore())
      if code != MPI_SUCCESS {
        failure = ("MPI_Test", code)
      } else if done != 0 {
        pending[index] = false
      }
    }
  }

  /// Starts the thread that tests the pending requests every `interval` until ``stopThread()``.
  func startThread(interval: Duration) {
    guard thread == nil else { return }
    let pause = interval.components
    let microseconds = UInt32(clamping: pause.seconds * 1_000_000 + pause.attoseconds / 1_000_000_000_000)
    let thread = Thread { [self] in
      while true {
        lock.lock()
        if stopping {
          lock.unlock()
          break
        }
        testPendingLocked()
        lock.unlock()
        usleep(Swift.max(microseconds, 1))
      }
      finished.signal()
    }
    thread.name = "awesomegrad-mpi-progress"
    self.thread = thread
    thread.start()
  }

  /// Ends the thread, if one runs, and returns once it has stopped calling MPI.
  func stopThread() {
    guard thread != nil else { return }
    lock.lock()
    stopping = true
    lock.unlock()
    finished.wait()
    thread = nil
  }

  /// The first failure, as the error to throw; nil when every call succeeded. Call after
  /// ``stopThread()``.
  func error(naming call: String) -> DistributedError? {
    failure.map { .mpi(call: "\($0.call) (\(call))", code: $0.code, message: mpiErrorString($0.code)) }
  }

  /// Request `index`, still to be waited for (or MPI's null request once complete); nil when it was
  /// never started. Call after ``stopThread()``.
  func request(_ index: Int) -> MPI_Request? { requests[index] }
}
