import AwesomegradKernels
import Foundation
import Synchronization

/// The library's one thread setting: how many threads its parallel loops and its matrix products use.
///
/// It governs everything that runs in parallel: the library's own pool (`ThreadPool`), which runs
/// elementwise ops, reductions, normalisations, convolutions and the optimizers in chunks, and the
/// matrix products, which split their output into fixed blocks over the same pool while OpenBLAS
/// itself stays on one thread. Work is never oversubscribed: a product called inside a parallel
/// region runs on that region's thread alone.
///
/// The first read takes `AWESOMEGRAD_NUM_THREADS` when it is set to a positive integer, and otherwise
/// the number of cores this process may run on (`sched_getaffinity` on Linux, as PyTorch does).
/// Every result is the same, bit for bit, at every thread count: see `ThreadPool`.
public var threadCount: Int { ThreadSetting.count }

/// Sets the library's one thread count (see ``threadCount``); values below 1 count as 1.
///
/// PyTorch's `torch.set_num_threads`. Call it once at the start of a program, like the examples'
/// `--threads` option; calling it while another thread runs library code is allowed, and a loop that
/// has already started keeps the count it started with.
public func setThreadCount(_ count: Int) { ThreadSetting.set(count) }

/// Where the count lives: one atomic integer, read on every parallel loop.
enum ThreadSetting {
  /// The environment variable read once at the first use of the setting.
  static let environmentVariable = "AWESOMEGRAD_NUM_THREADS"

  /// 0 until the first read resolves the default.
  private static let stored = Atomic<Int>(0)

  /// The current count (at least 1).
  @inline(__always)
  static var count: Int {
    let value = stored.load(ordering: .relaxed)
    return value > 0 ? value : resolveDefault()
  }

  static func set(_ count: Int) {
    stored.store(max(1, count), ordering: .relaxed)
  }

  /// The default: the environment variable when it is a positive integer, else the usable cores.
  private static func resolveDefault() -> Int {
    // OpenBLAS's one-time preparation may set OPENBLAS_CORETYPE: let it finish before this getenv.
    BLASBackend.prepare()
    let value = defaultCount(environment: getenv(environmentVariable).map { String(cString: $0) })
    // Another thread may have set the count meanwhile: keep the first value stored.
    let (exchanged, original) = stored.compareExchange(expected: 0, desired: value, ordering: .relaxed)
    return exchanged ? value : original
  }

  /// `environment` (the variable's value) when it is a positive integer, else ``availableCores``.
  static func defaultCount(environment: String?) -> Int {
    if let text = environment?.trimmingCharacters(in: .whitespaces), let value = Int(text), value > 0 {
      return value
    }
    return availableCores
  }

  /// The number of cores this process may run on (`sched_getaffinity` on Linux).
  static var availableCores: Int { Int(awesomegrad_available_cores()) }
}
