import AwesomegradKernels
import Foundation

/// SIGINT (Ctrl-C) and SIGTERM (a scheduler's preemption, `kill`) turned into a request that a
/// training loop polls between steps: the loop finishes its step, writes a checkpoint and exits. A
/// second signal ends the process at once (exit status 128 + the signal's number).
///
/// ```swift
/// let stop = StopSignal()
/// for … {
///   …                                        // one step
///   if stop.isRequested {
///     try checkpoints.save(checkpoint, state)
///     exit(0)
///   }
/// }
/// ```
///
/// The handler (in C, `AwesomegradKernels/signals.c`) does only what a signal handler may: it stores
/// the signal's number in a `sig_atomic_t` and writes a fixed line to standard error; the second
/// time it calls `_exit`. Signals and their handlers belong to the whole process, so keep one
/// `StopSignal` at a time; ``cancel()`` (or releasing it) gives the signals their default action back.
/// The signals are unblocked in the thread that creates it: a process started from a thread that
/// blocks them (Swift concurrency's and Dispatch's threads block every signal, and a child inherits
/// the mask) would otherwise never see them. Create it on the main thread, before starting threads.
public final class StopSignal: @unchecked Sendable {
  /// The signals listened to.
  public let signals: [Int32]
  private let lock = NSLock()
  private var requestedWithoutSignal = false
  private var isListening: Bool

  /// Starts listening for `signals`.
  ///
  /// - Parameters:
  ///   - signals: the signals that request a stop (SIGINT and SIGTERM by default).
  ///   - announce: write a line to standard error on the first signal, saying that the run stops
  ///     after its current step and that a second signal stops it at once.
  public init(signals: [Int32] = [SIGINT, SIGTERM], announce: Bool = true) {
    self.signals = signals
    awesomegrad_stop_signal_clear()
    isListening = signals.withUnsafeBufferPointer {
      awesomegrad_stop_signals_install($0.baseAddress, Int32($0.count), announce ? 1 : 0) == 0
    }
  }

  deinit { cancel() }

  /// Whether a stop was requested: a signal arrived, or ``request()`` was called.
  public var isRequested: Bool { receivedSignal != nil }

  /// The signal that requested the stop (0 for ``request()``), or nil.
  public var receivedSignal: Int32? {
    lock.lock()
    defer { lock.unlock() }
    let number = isListening ? awesomegrad_stop_signal_received() : 0
    if number != 0 { return number }
    return requestedWithoutSignal ? 0 : nil
  }

  /// Requests a stop without a signal (for example when another rank of a job received one).
  public func request() {
    lock.lock()
    defer { lock.unlock() }
    requestedWithoutSignal = true
  }

  /// Stops listening and gives the signals their default action back.
  public func cancel() {
    lock.lock()
    defer { lock.unlock() }
    guard isListening else { return }
    isListening = false
    signals.withUnsafeBufferPointer { awesomegrad_stop_signals_uninstall($0.baseAddress, Int32($0.count)) }
    awesomegrad_stop_signal_clear()
  }
}
