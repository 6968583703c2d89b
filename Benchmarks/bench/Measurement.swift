import Foundation
import MallocInterposerSwift

/// The instruments `bench` reads: a monotonic clock, resident memory from `/proc`, and malloc
/// counters from the malloc interposer linked into this executable.

// MARK: - Time

/// The time `body` takes on the monotonic clock, in microseconds.
@inline(never)
func microseconds(_ body: () -> Void) -> Double {
  let clock = ContinuousClock()
  let start = clock.now
  body()
  let elapsed = start.duration(to: clock.now)
  return Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12
}

/// The median of `values` (the mean of the two middle ones for an even count).
func median(_ values: [Double]) -> Double {
  let sorted = values.sorted()
  let mid = sorted.count / 2
  return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

// MARK: - Resident memory

/// Resident set size of this process, read from `/proc/self/status` on Linux.
enum ResidentMemory {
  /// Starts a new peak: on Linux, writing "5" to `/proc/self/clear_refs` resets VmHWM to the current
  /// RSS. Returns false where that is not possible; the peak then covers the whole process.
  @discardableResult
  static func resetPeak() -> Bool {
    guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
    defer { try? handle.close() }
    return (try? handle.write(contentsOf: Data("5".utf8))) != nil
  }

  /// The peak RSS in bytes since the last ``resetPeak()`` (VmHWM), or `ru_maxrss` where `/proc` is
  /// missing (kibibytes on Linux, bytes on macOS).
  static var peakBytes: Int {
    if let kib = statusField("VmHWM") { return kib * 1024 }
    var usage = rusage()
    #if os(Linux)
      getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
      return Int(usage.ru_maxrss) * 1024
    #else
      getrusage(RUSAGE_SELF, &usage)
      return Int(usage.ru_maxrss)
    #endif
  }

  /// The current RSS in bytes (VmRSS), or nil where `/proc` is missing.
  static var currentBytes: Int? { statusField("VmRSS").map { $0 * 1024 } }

  /// A `kB` field of `/proc/self/status`, such as `VmHWM:   123456 kB`.
  private static func statusField(_ name: String) -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix(name + ":") {
      return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
    }
    return nil
  }
}

// MARK: - Allocations

/// Counts `malloc` calls and live heap bytes through the malloc interposer. Linking
/// `MallocInterposerSwift` into the executable places its `malloc`/`free` ahead of libc's, so every
/// allocation in the process (Swift runtime, Foundation, OpenBLAS) goes through it.
enum Allocations {
  /// Starts counting from zero. Counting costs a few stores per malloc; it stays on while steps are
  /// timed, and the counters are read only between steps.
  static func startCounting() {
    MallocInterposerSwift.initialize()
    MallocInterposerSwift.hook()
  }

  static func stopCounting() { MallocInterposerSwift.unhook() }

  /// The counters so far: calls to malloc (and calloc, realloc, posix_memalign, …) and live bytes
  /// (requested bytes allocated minus bytes freed while counting).
  static func snapshot() -> (mallocs: Int, liveBytes: Int) {
    let s = MallocInterposerSwift.getStatistics()
    return (s.mallocCount, s.mallocBytesCount - s.freeBytesCount)
  }

  /// Whether the interposer sees this process's mallocs (it does when the dynamic linker resolved
  /// `malloc` to it); checked once with a known allocation.
  static let isActive: Bool = {
    startCounting()
    let before = snapshot().mallocs
    let probe = UnsafeMutablePointer<UInt8>.allocate(capacity: 1000)
    keepAlive(probe)
    let after = snapshot().mallocs
    probe.deallocate()
    stopCounting()
    return after > before
  }()
}

/// Keeps the optimizer from removing an allocation that is never read.
@inline(never)
func keepAlive(_ pointer: UnsafeMutablePointer<UInt8>) { pointer.pointee = 1 }

/// The peak of live heap bytes during a region, sampled at every malloc by the interposer's
/// allocation hook (live bytes only grow at a malloc, so the sample is exact). Like Python's
/// `tracemalloc` peak, it is measured from the level at the start of the region.
enum HeapPeak {
  /// Runs `body` with counting on and returns the highest live heap bytes above the starting level.
  /// Slow (a counter read per malloc): for untimed steps only.
  static func measure(_ body: () -> Void) -> Int {
    Allocations.startCounting()
    let start = Allocations.snapshot().liveBytes
    heapPeakLiveBytes = start
    MallocInterposerSwift.setAllocationHook { _ in
      let live = Allocations.snapshot().liveBytes
      if live > heapPeakLiveBytes { heapPeakLiveBytes = live }
    }
    body()
    MallocInterposerSwift.setAllocationHook(nil)
    Allocations.stopCounting()
    return heapPeakLiveBytes - start
  }
}

/// Written only by the allocation hook during ``HeapPeak/measure(_:)`` on the benchmark's thread; a
/// C callback cannot capture state, so it lives here.
nonisolated(unsafe) private var heapPeakLiveBytes = 0
