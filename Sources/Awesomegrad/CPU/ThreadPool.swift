import Foundation
import Synchronization

/// Runs `body` over `range` on the library's thread pool, in pieces of at least `grain` indices.
///
/// Use it for work whose result does not depend on how the range is split: each index of an
/// elementwise op, each row of a softmax. `body` gets disjoint consecutive pieces that cover the range
/// once, possibly on several threads at the same time, so it must write only to its own piece's
/// outputs. Below `grain` indices, at one thread, or inside another parallel region (a nested call),
/// it runs `body(range)` on the calling thread, so tiny tensors pay one comparison.
///
/// `grain` is the smallest piece worth a thread: about 32 768 cheap elementwise operations (PyTorch's
/// `at::internal::GRAIN_SIZE`), fewer for costlier ones.
@inline(__always)
func parallelFor(_ range: Range<Int>, grain: Int, _ body: (Range<Int>) -> Void) {
  let count = range.count
  guard count > grain else {
    if count > 0 { body(range) }
    return
  }
  if _slowPath(ParallelRegionTimer.isEnabled) {
    ParallelRegionTimer.measure { splitParallelFor(range, grain: grain, body) }
  } else {
    splitParallelFor(range, grain: grain, body)
  }
}

/// ``parallelFor(_:grain:_:)`` above its grain.
@inline(__always)
func splitParallelFor(_ range: Range<Int>, grain: Int, _ body: (Range<Int>) -> Void) {
  let count = range.count
  let threads = ThreadSetting.count
  guard threads > 1 else { return body(range) }
  // PyTorch's split: as many pieces as threads can use, none smaller than the grain; twice that, so a
  // thread slowed by another process does not hold the others up.
  let pieces = Swift.min(2 * threads, (count + grain - 1) / grain)
  let pieceSize = (count + pieces - 1) / pieces
  let lower = range.lowerBound, upper = range.upperBound
  ThreadPool.shared.run(chunks: pieces, threads: threads) { piece in
    let start = lower + piece * pieceSize
    body(start..<Swift.min(start + pieceSize, upper))
  }
}

/// Runs `body(chunk)` for every `chunk` in `0..<chunks` exactly once, on the library's thread pool.
///
/// This is the deterministic form: the caller fixes what each chunk covers from the problem's size
/// alone, never from the thread count, so a reduction that writes one partial result per chunk and
/// then combines the partials in chunk order gives the same bits at every thread count. One chunk, one
/// thread, or a nested call runs the chunks in order on the calling thread.
@inline(__always)
func parallelChunks(_ chunks: Int, _ body: (Int) -> Void) {
  guard chunks > 1 else {
    if chunks == 1 { body(0) }
    return
  }
  if _slowPath(ParallelRegionTimer.isEnabled) {
    ParallelRegionTimer.measure { runChunks(chunks, body) }
  } else {
    runChunks(chunks, body)
  }
}

/// ``parallelChunks(_:_:)`` for more than one chunk.
@inline(__always)
func runChunks(_ chunks: Int, _ body: (Int) -> Void) {
  let threads = ThreadSetting.count
  guard threads > 1 else {
    for chunk in 0..<chunks { body(chunk) }
    return
  }
  ThreadPool.shared.run(chunks: chunks, threads: threads, body)
}

/// An opt-in clock for the time spent in parallel regions (loops above their grain, split matrix
/// products), for `bench`'s `parallel_share`: run a step at one thread with the timer on, and the
/// share of the step's time spent in regions is the p of Amdahl's law, 1/((1 − p) + p/n).
///
/// Off by default; then a region pays one relaxed atomic load. Only the outermost region is timed
/// (a region inside another one, which runs serially, is part of its time).
enum ParallelRegionTimer {
  private static let enabled = Atomic<Bool>(false)
  private static let depth = Atomic<Int>(0)
  private static let total = Atomic<Int>(0)

  /// Whether regions are being timed.
  @inline(__always) static var isEnabled: Bool { enabled.load(ordering: .relaxed) }

  /// Turns the timer on (and clears it) or off.
  static func setEnabled(_ on: Bool) {
    total.store(0, ordering: .relaxed)
    enabled.store(on, ordering: .relaxed)
  }

  /// Nanoseconds spent in outermost regions since the timer was turned on or last reset.
  static var nanoseconds: Int { total.load(ordering: .relaxed) }

  /// Clears the total.
  static func reset() { total.store(0, ordering: .relaxed) }

  @inline(never)
  static func measure(_ body: () -> Void) {
    let outermost = depth.wrappingAdd(1, ordering: .relaxed).oldValue == 0
    let start = outermost ? DispatchTime.now().uptimeNanoseconds : 0
    body()
    if outermost {
      total.wrappingAdd(Int(DispatchTime.now().uptimeNanoseconds - start), ordering: .relaxed)
    }
    depth.wrappingSubtract(1, ordering: .relaxed)
  }
}

/// The library's one pool of worker threads (PyTorch's intra-op pool).
///
/// `threadCount − 1` workers join the calling thread, which always works too. A loop publishes its
/// chunk count and its body, and every participating thread claims chunks with one atomic
/// compare-and-swap until none are left; the caller returns once every claimed chunk has finished.
/// Nothing is allocated per loop: the body is reached through a pointer to the caller's stack.
///
/// - One loop at a time: a loop started while another runs (a nested call from inside a chunk, or a
///   second user thread) runs its chunks serially on its own thread, so nothing is oversubscribed.
/// - Workers spin for about 50 µs after a loop before they sleep on a condition variable, so the many
///   short loops of a training step find them awake, and an idle program costs no CPU.
final class ThreadPool: @unchecked Sendable {
  static let shared = ThreadPool()

  /// The loop being run, packed so that one compare-and-swap claims a chunk of the right loop:
  /// bits 40–63 the loop's generation, 20–39 its chunk count, 0–19 the next unclaimed chunk.
  private let claim = Atomic<Int>(0)
  /// Chunks claimed but not finished, plus those not yet claimed.
  private let pending = Atomic<Int>(0)
  /// Whether a loop is running (the pool serves one at a time).
  private let busy = Atomic<Bool>(false)
  /// Workers sleeping, or about to, on `wakeUp`.
  private let sleepers = Atomic<Int>(0)
  /// How many workers may claim chunks of the current loop (the thread count − 1).
  private let participants = Atomic<Int>(0)
  private let wakeUp = NSCondition()
  /// The workers started so far; guarded by `wakeUp`'s lock.
  private var workerCount = 0
  /// `workerCount`, readable without the lock (it only grows).
  private let startedWorkers = Atomic<Int>(0)
  /// The current loop's body, valid from publication until `pending` reaches 0.
  private var body: UnsafePointer<(Int) -> Void>?

  private static let chunkBits = 20
  private static let chunkMask = (1 << chunkBits) - 1
  private static let generationMask = 0xFF_FFFF
  /// The largest chunk count one loop can publish; more run in several loops.
  static let maxChunksPerLoop = chunkMask

  @inline(__always)
  private static func generation(of state: Int) -> Int { (state >> 40) & generationMask }

  private init() {
    // OpenBLAS's one-time preparation may set OPENBLAS_CORETYPE; finish it before any worker exists.
    BLASBackend.prepare()
  }

  /// Runs `body` for chunks `0..<chunks` on up to `threads` threads (the caller included).
  func run(chunks: Int, threads: Int, _ body: (Int) -> Void) {
    guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
      for chunk in 0..<chunks { body(chunk) }  // nested or concurrent: run here, in order
      return
    }
    defer { busy.store(false, ordering: .releasing) }
    startWorkers(upTo: threads - 1)
    participants.store(threads - 1, ordering: .relaxed)
    var first = 0
    while first < chunks {
      let count = Swift.min(chunks - first, Self.maxChunksPerLoop)
      let offset = first
      withoutActuallyEscaping({ (chunk: Int) in body(offset + chunk) }) { escapable in
        withUnsafePointer(to: escapable) { pointer in runLoop(count: count, body: pointer) }
      }
      first += count
    }
  }

  /// Publishes one loop, works on it, and waits until all its chunks have finished.
  private func runLoop(count: Int, body pointer: UnsafePointer<(Int) -> Void>) {
    self.body = pointer
    pending.store(count, ordering: .relaxed)
    let generation = (Self.generation(of: claim.load(ordering: .relaxed)) + 1) & Self.generationMask
    // Sequentially consistent with the workers' sleepers increment, so a worker about to sleep either
    // sees this loop or is counted in `sleepers` and woken.
    claim.store(generation << 40 | count << Self.chunkBits, ordering: .sequentiallyConsistent)
    if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
      wakeUp.lock()
      wakeUp.broadcast()
      wakeUp.unlock()
    }
    workOnCurrentLoop(generation: generation)
    var spins = 0
    while pending.load(ordering: .acquiring) > 0 {
      spins += 1
      if spins & 1023 == 0 { sched_yield() }
    }
    self.body = nil
  }

  /// Claims and runs chunks of the loop `generation` until none are left; returns at once when
  /// another loop is current.
  private func workOnCurrentLoop(generation: Int) {
    var state = claim.load(ordering: .acquiring)
    while Self.generation(of: state) == generation {
      let count = (state >> Self.chunkBits) & Self.chunkMask
      let next = state & Self.chunkMask
      guard next < count else { return }
      let (exchanged, current) = claim.compareExchange(
        expected: state, desired: state + 1, ordering: .acquiringAndReleasing)
      if exchanged {
        body.unsafelyUnwrapped.pointee(next)
        pending.subtract(1, ordering: .releasing)
        state = claim.load(ordering: .acquiring)
      } else {
        state = current
      }
    }
  }

  private func startWorkers(upTo wanted: Int) {
    if startedWorkers.load(ordering: .relaxed) >= wanted { return }  // the common case: no lock
    wakeUp.lock()
    defer { wakeUp.unlock() }
    while workerCount < wanted {
      let index = workerCount
      let thread = Thread { self.workerLoop(index: index) }
      thread.name = "awesomegrad-\(index + 1)"
      thread.start()
      workerCount += 1
    }
    startedWorkers.store(workerCount, ordering: .relaxed)
  }

  /// A worker's life: wait for a loop it may join, work on it, repeat.
  private func workerLoop(index: Int) {
    Self.blockAsynchronousSignals()
    var seen = Self.generation(of: claim.load(ordering: .acquiring))
    while true {
      seen = waitForLoop(after: seen)
      if index < participants.load(ordering: .relaxed) { workOnCurrentLoop(generation: seen) }
    }
  }

  /// Blocks every signal but the synchronous ones (a fault in this thread's own code) on the calling
  /// worker, so that a signal sent to the process (SIGINT, SIGTERM, a user's SIGUSR2) is delivered to
  /// a thread of the program, never to a pool thread: a worker that took it would run the program's
  /// handler at a random point of a kernel, or, where the handler only wakes a `signalfd` or a
  /// Dispatch source that expects the signal blocked, drop it (a test of `StopSignal` lost its signal
  /// this way once the pool had started).
  private static func blockAsynchronousSignals() {
    var set = sigset_t()
    sigfillset(&set)
    for synchronous in [SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT, SIGSYS] { sigdelset(&set, synchronous) }
    pthread_sigmask(SIG_BLOCK, &set, nil)
  }

  /// Spins for about 50 µs, then sleeps, until a loop other than `generation` is published; returns
  /// its generation.
  private func waitForLoop(after generation: Int) -> Int {
    let deadline = DispatchTime.now().uptimeNanoseconds + 50_000
    var spins = 0
    while true {
      let current = Self.generation(of: claim.load(ordering: .acquiring))
      if current != generation { return current }
      spins += 1
      if spins & 255 == 0 && DispatchTime.now().uptimeNanoseconds > deadline { break }
    }
    wakeUp.lock()
    defer { wakeUp.unlock() }
    sleepers.add(1, ordering: .sequentiallyConsistent)
    defer { sleepers.subtract(1, ordering: .sequentiallyConsistent) }
    while true {
      let current = Self.generation(of: claim.load(ordering: .sequentiallyConsistent))
      if current != generation { return current }
      wakeUp.wait()
    }
  }
}

/// Runs `body` with the parallel-region timer on and returns its wall time and the part of it spent
/// in parallel regions, in nanoseconds: `bench`'s `parallel_share` (run it at one thread). For the
/// benchmarks only; the library never turns the timer on.
@_spi(Benchmarking)
public func timeParallelRegions(_ body: () -> Void) -> (totalNanoseconds: Int, regionNanoseconds: Int) {
  ParallelRegionTimer.setEnabled(true)
  defer { ParallelRegionTimer.setEnabled(false) }
  let start = DispatchTime.now().uptimeNanoseconds
  body()
  let total = Int(DispatchTime.now().uptimeNanoseconds - start)
  return (total, ParallelRegionTimer.nanoseconds)
}
