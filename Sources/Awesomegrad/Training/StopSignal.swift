import Dispatch
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
/// The signals are received by Dispatch signal sources, not by a signal handler: their handlers run
/// on a queue as ordinary code, so nothing unsafe ever runs inside a signal handler, and no global
/// state is kept. While a `StopSignal` is alive the signals' default action is off (set to ignore, so
/// that Dispatch receives them); ``cancel()`` (or releasing it) restores the default.
public final class StopSignal: @unchecked Sendable {
  /// The signals listened to.
  public let signals: [Int32]
  private let lock = NSLock()
  private var received: Int32?
  private var sources: [DispatchSourceSignal] = []

  /// Starts listening for `signals` (SIGINT and SIGTERM by default).
  ///
  /// - Parameter announce: write a line to standard error on the first signal, saying that the run
  ///   stops after its current step and that a second signal stops it at once.
  public init(signals: [Int32] = [SIGINT, SIGTERM], announce: Bool = true) {
    self.signals = signals
    for number in signals {
      Foundation.signal(number, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
      source.setEventHandler { [weak self] in self?.receive(number, announce: announce) }
      source.resume()
      sources.append(source)
    }
  }

  deinit { cancel() }

  /// Whether a stop was requested: a signal arrived, or ``request()`` was called.
  public var isRequested: Bool {
    lock.lock()
    defer { lock.unlock() }
    return received != nil
  }

  /// The signal that requested the stop (0 for ``request()``), or nil.
  public var receivedSignal: Int32? {
    lock.lock()
    defer { lock.unlock() }
    return received
  }

  /// Requests a stop without a signal (for example when another rank of a job received one).
  public func request() {
    lock.lock()
    defer { lock.unlock() }
    if received == nil { received = 0 }
  }

  /// Stops listening and gives the signals their default action back.
  public func cancel() {
    lock.lock()
    let sources = self.sources
    self.sources = []
    lock.unlock()
    for source in sources { source.cancel() }
    if !sources.isEmpty { for number in signals { Foundation.signal(number, SIG_DFL) } }
  }

  /// The first signal requests the stop; the second ends the process.
  private func receive(_ number: Int32, announce: Bool) {
    lock.lock()
    let first = received == nil || received == 0
    if first { received = number }
    lock.unlock()
    let name = Self.name(number)
    if first {
      if announce {
        FileHandle.standardError.write(
          Data("\(name): stopping after the current step (send it again to stop at once)\n".utf8))
      }
    } else {
      FileHandle.standardError.write(Data("\(name) again: stopping now, without a checkpoint\n".utf8))
      _exit(128 + number)
    }
  }

  /// `SIGINT`, `SIGTERM`, or `signal N`.
  static func name(_ number: Int32) -> String {
    switch number {
    case SIGINT: "SIGINT"
    case SIGTERM: "SIGTERM"
    case SIGHUP: "SIGHUP"
    case SIGUSR1: "SIGUSR1"
    case SIGUSR2: "SIGUSR2"
    default: "signal \(number)"
    }
  }
}
