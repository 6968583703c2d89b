import ArgumentParser
@_spi(Benchmarking) import Awesomegrad

/// `swift run -c release bench WORKLOAD... [--threads N] [--steps N] [--all]`
///
/// Prints one JSON object per line per workload: the median, min and max time per step in
/// microseconds on the monotonic clock (malloc counting off), the workload's peak RSS, the malloc
/// calls per step (counted in extra, untimed steps) and the peak heap bytes a step adds
/// (`graph_peak_bytes`: the graph, its gradients and temporaries), and the BLAS backend that ran it
/// (`blas_version`, `blas_core`, `blas_config`, `blas_threads`, `blas_correction`), and the share of a
/// one-thread step spent in parallel regions (`parallel_share`, the p of Amdahl's law).
/// `Benchmarks/compare.sh` runs the same workloads with micrograd and PyTorch and prints the ratios.
@main
struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Times Awesomegrad's benchmark workloads and prints one JSON line per workload.",
    discussion: """
      Workloads: \((allWorkloads.map { $0.name } + [soakName, AttentionCrossover.name] + mpiWorkloads).joined(separator: ", ")).
      \(soakName) runs \(soakDefaultSteps) moons-tensor steps and reports RSS at the start and the end.
      \(AttentionCrossover.name) times attention through each kernel at contexts 64 to 1024 (--steps per
      round, 5 rounds), one line per context and kernel.
      \(DDPFashionEpoch.name) times a fashion MLP epoch on 2 MPI ranks (mpirun) against 1 process;
      \(DDPCNN.name) 150 global batches of the CNN the same way; \(DDPOverlap.name) a CNN step on 2 ranks
      with the gradients averaged after backward against during it.
      """)

  static let soakName = "moons-tensor-soak"
  static let soakDefaultSteps = 10_000
  /// The workloads that start MPI ranks (`mpirun`), in the order `--all` runs them.
  static let mpiWorkloads = [DDPFashionEpoch.name, DDPCNN.name, DDPOverlap.name]

  @Argument(help: "Workloads to run, in order.")
  var workloads: [String] = []

  @Flag(help: "Run every workload.")
  var all = false

  @Option(help: "The library's one thread count (setThreadCount): its pool and its matrix products.")
  var threads = 1

  @Option(help: "Timed steps per workload (default: each workload's own).")
  var steps: Int?

  /// Set by the MPI workloads on the ranks they start under mpirun.
  @Flag(help: .hidden)
  var ddpWorker = false

  /// `ddp-overlap` worker: the shaped link's rate and delay in tc's units (`make ddp-hosts`).
  @Option(help: .hidden)
  var linkRate: String?
  @Option(help: .hidden)
  var linkDelay: String?

  mutating func validate() throws {
    let known = Set(allWorkloads.map { $0.name } + [Self.soakName, AttentionCrossover.name] + Self.mpiWorkloads)
    if workloads.isEmpty && !all { throw ValidationError("Name a workload or pass --all.") }
    for name in workloads where !known.contains(name) {
      throw ValidationError("Unknown workload '\(name)'. Known: \(known.sorted().joined(separator: ", ")).")
    }
    if threads < 1 { throw ValidationError("--threads must be at least 1.") }
    if let steps, steps < 1 { throw ValidationError("--steps must be at least 1.") }
  }

  func run() throws {
    setThreadCount(threads)
    keepFreedMemoryForReuse()  // as the examples do: reuse freed activation buffers across steps
    if ddpWorker {
      switch workloads.first {
      case DDPCNN.name: return try DDPCNN.benchmark.runWorker()
      case DDPOverlap.name:
        return try DDPOverlap.runWorker(steps: steps ?? 20, linkRate: linkRate, linkDelay: linkDelay)
      default: return try DDPFashionEpoch.benchmark.runWorker()
      }
    }
    let names = all ? allWorkloads.map { $0.name } + [Self.soakName] + Self.mpiWorkloads : workloads
    for name in names {
      if name == AttentionCrossover.name {
        for var line in AttentionCrossover.measure(rounds: 5, steps: steps ?? 5) {
          line.addBLASBackend(BLASBackend.current)
          print(line.text)
        }
        continue
      }
      var line: JSONLine
      if name == DDPFashionEpoch.name {
        line = try DDPFashionEpoch.benchmark.measure(rounds: steps ?? 1, threads: threads)
      } else if name == DDPCNN.name {
        line = try DDPCNN.benchmark.measure(rounds: steps ?? 1, threads: threads)
      } else if name == DDPOverlap.name {
        line = try DDPOverlap.measure(steps: steps ?? 20, threads: threads)
      } else if name == Self.soakName {
        line = runSoak(steps: steps ?? Self.soakDefaultSteps)
      } else {
        let type = allWorkloads.first { $0.name == name }!
        line = run(type, steps: steps ?? type.defaultSteps)
      }
      line.addBLASBackend(BLASBackend.current)
      print(line.text)
    }
  }

  /// Builds the workload and warms it up (measuring the heap peak of the last warm-up step), times
  /// `steps` steps one by one with malloc counting off, then counts the mallocs of
  /// `countedSteps` more steps, untimed: the counters cost a few stores per malloc, which would
  /// slow an allocation-heavy step by several percent.
  func run(_ type: any Workload.Type, steps: Int) -> JSONLine {
    ResidentMemory.resetPeak()
    let workload = type.init()
    let counting = Allocations.isActive
    var heapPeak: Int?
    for i in 0..<type.warmUpSteps {
      if i == type.warmUpSteps - 1 && counting {
        heapPeak = HeapPeak.measure { workload.warmUp() }
      } else {
        workload.warmUp()
      }
    }
    var times: [Double] = []
    times.reserveCapacity(steps)
    for _ in 0..<steps { times.append(microseconds { workload.step() }) }
    let peakRSS = ResidentMemory.peakBytes

    var mallocs: [Int] = []
    if counting {
      Allocations.startCounting()
      for _ in 0..<type.countedSteps {
        let before = Allocations.snapshot().mallocs
        workload.step()
        mallocs.append(Allocations.snapshot().mallocs - before)
      }
      Allocations.stopCounting()
    }

    var line = header(name: type.name, engine: type.engine, dtype: type.dtype, steps: steps, times: times)
    line.add("parallel_share", parallelShare(of: workload, steps: Swift.min(steps, 20)))
    line.add("peak_rss_bytes", peakRSS)
    line.add("allocations_per_step", counting ? Int(median(mallocs.map(Double.init))) : nil)
    line.add("graph_peak_bytes", heapPeak)
    if let flops = workload.flopsPerStep {
      line.add("gflops", flops / (median(times) * 1e-6) / 1e9)
    }
    for (key, value) in workload.extraFields { line.add(key, value) }
    return line
  }

  /// The share p of a one-thread step spent in parallel regions (loops above their grain, split
  /// products), measured over `steps` extra steps at one thread with the pool's opt-in timer:
  /// Amdahl's law then projects 1/((1 − p) + p/n) on n cores.
  func parallelShare(of workload: any Workload, steps: Int) -> Double {
    let threads = threadCount
    setThreadCount(1)
    defer { setThreadCount(threads) }
    let (total, inRegions) = timeParallelRegions {
      for _ in 0..<steps { workload.step() }
    }
    return Double(inRegions) / Double(Swift.max(total, 1))
  }

  /// Runs moons-tensor `steps` times and reports whether memory stays flat: RSS after warm-up and
  /// at the end, and the malloc count of each step (the same in every step when nothing leaks).
  /// Counting stays on for every step here, so these times are not compared with anything.
  func runSoak(steps: Int) -> JSONLine {
    ResidentMemory.resetPeak()
    let workload = MoonsTensor()
    for _ in 0..<MoonsTensor.warmUpSteps { workload.step() }
    let rssStart = ResidentMemory.currentBytes
    let counting = Allocations.isActive
    if counting { Allocations.startCounting() }
    var times: [Double] = []
    var mallocs: [Int] = []
    times.reserveCapacity(steps)
    mallocs.reserveCapacity(steps)
    var liveStart = 0
    for i in 0..<steps {
      let before = Allocations.snapshot()
      if i == 0 { liveStart = before.liveBytes }
      times.append(microseconds { workload.step() })
      mallocs.append(Allocations.snapshot().mallocs - before.mallocs)
    }
    let liveGrowth = Allocations.snapshot().liveBytes - liveStart
    Allocations.stopCounting()
    let rssEnd = ResidentMemory.currentBytes

    var line = header(
      name: Self.soakName, engine: MoonsTensor.engine, dtype: MoonsTensor.dtype, steps: steps, times: times)
    line.add("peak_rss_bytes", ResidentMemory.peakBytes)
    line.add("allocations_per_step", counting ? Int(median(mallocs.map(Double.init))) : nil)
    // A step's count can differ by one from the next: arrays grow to the usable size malloc reports,
    // which depends on which free chunk it reused. A leak shows as a count that grows over time.
    let window = max(1, steps / 10)
    line.add(
      "allocations_per_step_first", counting ? Int(median(mallocs.prefix(window).map(Double.init))) : nil)
    line.add(
      "allocations_per_step_last", counting ? Int(median(mallocs.suffix(window).map(Double.init))) : nil)
    line.add("allocations_per_step_min", counting ? mallocs.min() : nil)
    line.add("allocations_per_step_max", counting ? mallocs.max() : nil)
    line.add("rss_start_bytes", rssStart)
    line.add("rss_end_bytes", rssEnd)
    line.add("heap_growth_bytes", counting ? liveGrowth : nil)
    return line
  }

  /// The keys every line starts with.
  func header(name: String, engine: String, dtype: String, steps: Int, times: [Double]) -> JSONLine {
    var line = JSONLine()
    line.add("workload", name)
    line.add("engine", engine)
    line.add("dtype", dtype)
    line.add("threads", threadCount)
    line.add("steps", steps)
    line.add("median_us", median(times))
    line.add("min_us", times.min())
    line.add("max_us", times.max())
    return line
  }
}
