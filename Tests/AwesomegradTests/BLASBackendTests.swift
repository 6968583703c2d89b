import CBLAS
import Foundation
import Testing
import TorchConformance

@testable import Awesomegrad

/// The BLAS kernel check: the decision on described CPUs, the kernel this machine runs, and the
/// in-process correction, proved in child processes that start on OpenBLAS's generic kernel.
@Suite struct BLASBackendTests {
  // MARK: - The decision, on described CPUs

  /// The reporter's Xeon: Intel family 6, model 207 = 0xCF (extended model 0xC, model 0xF), with
  /// AVX-512 F/DQ/BW/VL and AVX512-BF16. OpenBLAS 0.3.21 has no case for extended model 0xC and
  /// falls through to `Prescott`; its Cooperlake kernel is the one for a BF16 CPU.
  static let xeonModel207 = CPUFeatures(
    vendor: "GenuineIntel", family: 6, model: 207, avx: true, avx2: true, fma: true, avx512f: true,
    avx512dq: true, avx512bw: true, avx512vl: true, avx512bf16: true, osSavesAVX512State: true)

  @Test func intelModel207OnPrescottGetsCooperlake() {
    #expect(
      OpenBLASCore.correction(selected: "Prescott", cpu: Self.xeonModel207, userCoreType: nil) == "Cooperlake"
    )
    var noBF16 = Self.xeonModel207
    noBF16.avx512bf16 = false
    #expect(OpenBLASCore.correction(selected: "Prescott", cpu: noBF16, userCoreType: nil) == "SkylakeX")
    // Core names compare case-insensitively (non-DYNAMIC_ARCH builds spell them in capitals).
    #expect(OpenBLASCore.correction(selected: "PRESCOTT", cpu: noBF16, userCoreType: nil) == "SkylakeX")
  }

  /// AVX-512 flags without the OS saving the ZMM registers (XCR0 bits 5–7) cannot run the SkylakeX
  /// kernel; nor can a CPU missing one of F/DQ/BW/VL (Knights Landing has F but not BW/DQ/VL).
  @Test func avx512NeedsAllFourFlagsAndTheOSState() {
    var noOSState = Self.xeonModel207
    noOSState.osSavesAVX512State = false
    #expect(OpenBLASCore.correction(selected: "Prescott", cpu: noOSState, userCoreType: nil) == "Haswell")
    var knightsLanding = Self.xeonModel207
    (knightsLanding.avx512bw, knightsLanding.avx512dq, knightsLanding.avx512vl) = (false, false, false)
    #expect(
      OpenBLASCore.correction(selected: "Prescott", cpu: knightsLanding, userCoreType: nil) == "Haswell")
  }

  /// AVX2 with FMA is Haswell's kernel, on Intel; on AMD and Hygon it is Zen's. Without FMA, or with
  /// AVX only, it is Sandybridge's; with no AVX a generic kernel is the right one.
  @Test(arguments: ["Prescott", "Core2", "Penryn", "Nehalem", "Atom", "Barcelona", "Unknown"])
  func genericCoresOnAVX2MachinesAreCorrected(_ selected: String) {
    let intel = CPUFeatures(vendor: "GenuineIntel", family: 6, model: 0x9E, avx: true, avx2: true, fma: true)
    #expect(OpenBLASCore.correction(selected: selected, cpu: intel, userCoreType: nil) == "Haswell")
    let zen2 = CPUFeatures(vendor: "AuthenticAMD", family: 23, model: 0x31, avx: true, avx2: true, fma: true)
    #expect(OpenBLASCore.correction(selected: selected, cpu: zen2, userCoreType: nil) == "Zen")
    let hygon = CPUFeatures(vendor: "HygonGenuine", family: 24, model: 0, avx: true, avx2: true, fma: true)
    #expect(OpenBLASCore.correction(selected: selected, cpu: hygon, userCoreType: nil) == "Zen")
    let avxOnly = CPUFeatures(vendor: "GenuineIntel", family: 6, model: 0x2A, avx: true)
    #expect(OpenBLASCore.correction(selected: selected, cpu: avxOnly, userCoreType: nil) == "Sandybridge")
    let sse = CPUFeatures(vendor: "GenuineIntel", family: 6, model: 0x1A)
    #expect(OpenBLASCore.correction(selected: selected, cpu: sse, userCoreType: nil) == nil)
  }

  /// AMD Zen 4 (family 25) has AVX-512 with BF16: OpenBLAS 0.3.21 itself picks Cooperlake there.
  @Test func zen4OnAGenericCoreGetsCooperlake() {
    let zen4 = CPUFeatures(
      vendor: "AuthenticAMD", family: 25, model: 0x11, avx: true, avx2: true, fma: true, avx512f: true,
      avx512dq: true, avx512bw: true, avx512vl: true, avx512bf16: true, osSavesAVX512State: true)
    #expect(OpenBLASCore.correction(selected: "Prescott", cpu: zen4, userCoreType: nil) == "Cooperlake")
    #expect(OpenBLASCore.correction(selected: "Cooperlake", cpu: zen4, userCoreType: nil) == nil)
  }

  /// A non-generic choice is OpenBLAS's deliberate call and is kept, even when it is not the best.
  @Test(arguments: ["Cooperlake", "SkylakeX", "Haswell", "Zen", "Sandybridge", "SapphireRapids"])
  func nonGenericCoresAreKept(_ selected: String) {
    #expect(OpenBLASCore.correction(selected: selected, cpu: Self.xeonModel207, userCoreType: nil) == nil)
  }

  /// The user's OPENBLAS_CORETYPE always wins, whatever it names; an empty value counts as unset.
  @Test func theUsersCoreTypeWins() {
    for user in ["Prescott", "Haswell", "nonsense"] {
      #expect(
        OpenBLASCore.correction(selected: "Prescott", cpu: Self.xeonModel207, userCoreType: user) == nil)
    }
    #expect(
      OpenBLASCore.correction(selected: "Prescott", cpu: Self.xeonModel207, userCoreType: "") == "Cooperlake")
  }

  /// Not x86 (no cpuid): nothing to decide.
  @Test func noCPUFeaturesNoCorrection() {
    #expect(OpenBLASCore.correction(selected: "Prescott", cpu: nil, userCoreType: nil) == nil)
  }

  /// The re-selection is for OpenBLAS 0.3.20–0.3.24 only (issue 4267's fallback, fixed in 0.3.25):
  /// versions compare as numbers (0.3.3 is older than 0.3.20), and suffixes are ignored.
  @Test func theReselectionIsForVersions0320To0324Only() {
    for version in ["0.3.20", "0.3.21", "0.3.21.dev", "0.3.21+ds", "0.3.24"] {
      #expect(OpenBLASCore.isProven(version: version), "\(version)")
    }
    for version in ["0.3.19", "0.3.3", "0.3.25", "0.3.26", "0.4.0", "1.3.21", "0.3", "", "x.y.z"] {
      #expect(!OpenBLASCore.isProven(version: version), "\(version)")
    }
  }

  /// On another version nothing is changed, and the backend's description says why.
  @Test func anotherVersionSaysWhyNothingWasDone() {
    let backend = BLASBackend(
      version: "0.3.26", config: "OpenBLAS 0.3.26 DYNAMIC_ARCH", coreName: "Haswell", threads: 2,
      correction: .notApplicable(OpenBLASCore.notApplicableReason(version: "0.3.26")), cpu: nil)
    #expect(
      backend.description
        == "OpenBLAS 0.3.26, core Haswell, 2 threads, correction not applied (OpenBLAS 0.3.26 is not "
        + "0.3.20–0.3.24, the versions whose generic-kernel fallback (OpenBLAS issue 4267, fixed in 0.3.25) "
        + "the in-process re-selection is for; its own choice of kernel is kept)")
  }

  @Test func versionComesFromTheConfigString() {
    let config = "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Cooperlake MAX_THREADS=64"
    #expect(OpenBLASCore.version(fromConfig: config) == "0.3.21")
    #expect(OpenBLASCore.version(fromConfig: "something else") == "")
  }

  @Test func descriptionsNameTheCPUAndTheCorrection() {
    #expect(
      Self.xeonModel207.description
        == "GenuineIntel family 6 model 207 (0xcf): AVX AVX2 FMA AVX-512 AVX512-BF16")
    #expect(
      BLASCoreCorrection.corrected(from: "Prescott", to: "Cooperlake").description
        == "corrected Prescott -> Cooperlake")
    #expect(BLASCoreCorrection.userSetting("Haswell").description == "user OPENBLAS_CORETYPE=Haswell")
  }

  /// When the switch is impossible, the one warning names the kernel and says exactly what to set.
  @Test func theWarningSaysWhatToSet() {
    let dynamic = OpenBLASCore.warning(
      selected: "Prescott", target: "Cooperlake", cpu: Self.xeonModel207,
      config: "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Prescott MAX_THREADS=64")
    #expect(dynamic.contains("OpenBLAS 0.3.21 chose its generic 'Prescott' kernel"))
    #expect(dynamic.contains("Set OPENBLAS_CORETYPE=Cooperlake in the environment"))
    #expect(dynamic.contains("GenuineIntel family 6 model 207"))
    let fixed = OpenBLASCore.warning(
      selected: "Prescott", target: "Haswell", cpu: Self.xeonModel207, config: "OpenBLAS 0.3.21 Prescott")
    #expect(fixed.contains("Install an OpenBLAS built with DYNAMIC_ARCH=1 or for TARGET=HASWELL"))
  }

  // MARK: - This machine

  static var userSetCoreType: Bool { ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] != nil }
  static var hasAVX2: Bool { CPUFeatures.current?.canRunAVX2 == true }
  #if os(Linux)
    static let isLinux = true
  #else
    static let isLinux = false
  #endif

  /// With AVX2 or AVX-512 and no OPENBLAS_CORETYPE, the kernel that runs after the library's check
  /// is not a generic one, whatever OpenBLAS chose at load time.
  @Test(.enabled(if: hasAVX2 && !userSetCoreType, "needs an x86 CPU with AVX2 and no OPENBLAS_CORETYPE"))
  func theSelectedCoreIsNotGeneric() {
    let backend = BLASBackend.current
    #expect(!OpenBLASCore.isGeneric(backend.coreName), "\(backend)")
    #expect(backend.correction == .none || backend.coreName == OpenBLASCore.best(for: CPUFeatures.current!))
    #expect(!backend.version.isEmpty && backend.config.contains(backend.version), "\(backend.config)")
    #expect(backend.threads >= 1)
  }

  // MARK: - The small A·Bᵀ path

  /// OpenBLAS's AVX-512 small-matrix permit refuses column-major TN (row-major A·Bᵀ) when
  /// M·N = m·n > 1200 or K < 32, and every product with M·N·K > 100³.
  @Test func theSmallTNRuleIsOpenBLASs() {
    #expect(BLAS.smallProductRefusesTN(m: 100, n: 16, k: 16))  // m·n = 1600 > 1200
    #expect(BLAS.smallProductRefusesTN(m: 10, n: 10, k: 2))  // K < 32
    #expect(!BLAS.smallProductRefusesTN(m: 10, n: 10, k: 64))  // permitted as it is
    #expect(!BLAS.smallProductRefusesTN(m: 256, n: 512, k: 784))  // too big for small kernels
  }

  /// Row-major A·Bᵀ at the moons layer sizes (the copied-transpose path on AVX-512 cores, the plain
  /// one elsewhere) against a triple loop in Double: c[i][j] = Σₗ a[i][l]·b[j][l]. One gemm call each.
  @Test(arguments: [(100, 16, 2), (100, 16, 16), (100, 1, 16), (7, 300, 3)])
  func smallProductsWithBTransposedMatchALoop(_ shape: (Int, Int, Int)) {
    let (m, n, k) = shape
    let a = Self.input(m * k, seed: 1, as: Double.self), b = Self.input(n * k, seed: 2, as: Double.self)
    var c = [Double](repeating: .nan, count: m * n)
    let counter = CallCounter()
    BLAS.$gemmCounter.withValue(counter) {
      BLAS.gemm(
        transposeA: false, transposeB: true, m: m, n: n, k: k, alpha: 1, a: a, lda: k, b: b, ldb: k, beta: 0,
        c: &c, ldc: n)
    }
    #expect(counter.count == 1)
    var worst = 0.0
    for i in 0..<m {
      for j in 0..<n {
        var sum = 0.0
        for l in 0..<k { sum += a[i * k + l] * b[j * k + l] }
        worst = max(worst, abs(c[i * n + j] - sum))
      }
    }
    #expect(worst <= 1e-13, "largest difference \(worst)")
  }

  // MARK: - The correction, in child processes

  /// Set in a child process only: where the child writes its report and results, and what it does.
  static let childOutputKey = "AWESOMEGRAD_BLAS_TEST_OUTPUT"
  static let childModeKey = "AWESOMEGRAD_BLAS_TEST_MODE"

  /// Products whose results the children compare bit for bit: (m, n, k, transposeA, transposeB).
  /// Small ones (OpenBLAS's small-matrix path), the moons and mlp-784 shapes, odd sizes, and ones
  /// large enough (m·n·k > 65536·4) that OpenBLAS splits them over threads.
  static let shapes: [(Int, Int, Int, Bool, Bool)] = [
    (3, 5, 7, false, false), (100, 16, 16, false, true), (100, 16, 2, false, false),
    (16, 16, 100, true, false), (256, 512, 784, false, true), (256, 784, 512, false, false),
    (512, 784, 256, true, false), (257, 130, 301, false, false), (640, 640, 640, false, false),
    (301, 257, 513, true, true),
  ]

  /// A deterministic input in [-1, 1]: sin(0.37·i + 0.11·seed), computed in Double.
  static func input<T: TensorScalar>(_ count: Int, seed: Int, as: T.Type) -> [T] {
    (0..<count).map { T(sin(0.37 * Double($0) + 0.11 * Double(seed))) }
  }

  /// Every product of `shapes` in T through the library's gemm doorway, on `threads` threads,
  /// concatenated.
  static func products<T: TensorScalar>(_ type: T.Type, threads: Int) -> [T] {
    setThreadCount(threads)
    var all: [T] = []
    for (index, (m, n, k, ta, tb)) in shapes.enumerated() {
      let a = input(m * k, seed: 2 * index, as: T.self), b = input(k * n, seed: 2 * index + 1, as: T.self)
      var c = [T](repeating: 0, count: m * n)
      a.withUnsafeBufferPointer { a in
        b.withUnsafeBufferPointer { b in
          c.withUnsafeMutableBufferPointer { c in
            BLAS.gemm(
              transposeA: ta, transposeB: tb, m: m, n: n, k: k, alpha: 1, a: a.baseAddress!,
              lda: ta ? m : k, b: b.baseAddress!, ldb: tb ? k : n, beta: 0, c: c.baseAddress!, ldc: n)
          }
        }
      }
      all += c
    }
    return all
  }

  /// The child's work, run only when the parent test below starts this test binary with
  /// `childOutputKey` set; in a normal run it returns at once.
  ///
  /// Modes: `correct` re-selects the best kernel with the library's correction (before any BLAS
  /// call, as the library does) and runs the conformance fixtures on it; `reference` and `generic`
  /// keep the kernel OpenBLAS chose at load time. Then each computes every product in Float and
  /// Double on 1 and 2 threads and writes `report` (one `key=value` a line) and the raw result bytes.
  @Test func childProcessWorker() throws {
    let environment = ProcessInfo.processInfo.environment
    guard let output = environment[Self.childOutputKey], let mode = environment[Self.childModeKey] else {
      return
    }
    var report = ["load=" + String(cString: openblas_get_corename())]
    if mode == "pool-first" {
      // OpenBLAS loaded the kernel OPENBLAS_CORETYPE named; unset, the library's own check decides.
      // Start the thread pool before any product: the check must already have run by then.
      unsetenv("OPENBLAS_CORETYPE")
      setThreadCount(2)
      parallelFor(0..<100_000, grain: 1_000) { _ in }
      report.append("after_pool=" + String(cString: openblas_get_corename()))
      report.append("correction=\(BLASBackend.current.correction)")
      try report.joined(separator: "\n").write(toFile: output + ".txt", atomically: true, encoding: .utf8)
      try Data().write(to: URL(fileURLWithPath: output + ".bin"))
      return
    }
    if mode == "correct", let cpu = CPUFeatures.current, let best = OpenBLASCore.best(for: cpu) {
      report.append("reselected=" + (OpenBLASCore.reselect(best) ?? "unavailable"))
    }
    report.append("now=" + String(cString: openblas_get_corename()))
    if mode == "correct" {
      var failed: [String] = []
      for name in ["torch_ops_seed0", "torch_ops_seed1"] {
        let url = try #require(
          Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures"))
        failed += ConformanceRunner().run(try Fixture(contentsOf: url)).filter { !$0.passed }.map(\.name)
      }
      report.append("conformance_failed=" + Set(failed).sorted().joined(separator: ","))
    }
    var bytes = Data()
    for threads in [1, 2] {
      Self.products(Float.self, threads: threads).withUnsafeBytes { bytes.append(contentsOf: $0) }
      Self.products(Double.self, threads: threads).withUnsafeBytes { bytes.append(contentsOf: $0) }
    }
    try report.joined(separator: "\n").write(toFile: output + ".txt", atomically: true, encoding: .utf8)
    try bytes.write(to: URL(fileURLWithPath: output + ".bin"))
  }

  /// Runs `childProcessWorker` in a new process of this test binary with OPENBLAS_CORETYPE=`coreType`
  /// (read by OpenBLAS when it loads) and 2 OpenBLAS threads (so its thread server starts at load
  /// time, on that core); returns the child's report and result bytes.
  static func runChild(mode: String, coreType: String) throws -> (report: [String: String], bytes: Data) {
    let output = FileManager.default.temporaryDirectory
      .appendingPathComponent("awesomegrad-blas-\(mode)-\(UUID().uuidString)").path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
    process.arguments = ["--testing-library", "swift-testing", "--filter", "childProcessWorker"]
    var environment = ProcessInfo.processInfo.environment
    environment["OPENBLAS_CORETYPE"] = coreType
    environment["OPENBLAS_NUM_THREADS"] = "2"
    environment[childOutputKey] = output
    environment[childModeKey] = mode
    process.environment = environment
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    defer {
      try? FileManager.default.removeItem(atPath: output + ".txt")
      try? FileManager.default.removeItem(atPath: output + ".bin")
    }
    #expect(process.terminationStatus == 0, "child \(mode) with OPENBLAS_CORETYPE=\(coreType) failed")
    let text = try String(contentsOfFile: output + ".txt", encoding: .utf8)
    var report: [String: String] = [:]
    for line in text.split(separator: "\n") {
      let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      report[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
    }
    return (report, try Data(contentsOf: URL(fileURLWithPath: output + ".bin")))
  }

  /// The library prepares OpenBLAS (its one-time check, which may set OPENBLAS_CORETYPE) before it
  /// starts its thread pool, not lazily at the first product on whatever thread makes it: a child
  /// that OpenBLAS started on Prescott, with the variable then unset, runs a parallel loop and no
  /// product, and already runs the right kernel. (Before the fix it was still on Prescott there.)
  @Test(.enabled(if: hasAVX2 && isLinux, "needs Linux (the test binary re-runs itself) and AVX2"))
  func theCheckRunsBeforeThePoolStarts() throws {
    let best = try #require(OpenBLASCore.best(for: CPUFeatures.current!))
    let child = try Self.runChild(mode: "pool-first", coreType: "Prescott")
    #expect(child.report["load"] == "Prescott")
    let version = OpenBLASCore.version(fromConfig: String(cString: openblas_get_config()))
    if OpenBLASCore.isProven(version: version) {
      #expect(child.report["after_pool"] == best)
      #expect(child.report["correction"] == "corrected Prescott -> \(best)")
    } else {
      #expect(child.report["after_pool"] == "Prescott")
      #expect(child.report["correction"]?.hasPrefix("not applied (OpenBLAS \(version) is not") == true)
    }
  }

  /// The fallback, simulated: a child starts on OpenBLAS's generic Prescott kernel (as
  /// 0.3.21 does on an Intel family 6 model 207), applies the library's in-process correction, and
  /// its sgemm/dgemm results on 1 and 2 threads are bit for bit those of a child that OpenBLAS
  /// started on the right kernel at load time. The conformance fixtures pass on the corrected kernel.
  /// A third child stays on Prescott, to show the kernels really differ.
  @Test(.enabled(if: hasAVX2 && isLinux, "needs Linux (the test binary re-runs itself) and AVX2"))
  func correctingInProcessGivesTheRightKernelsBits() throws {
    let best = try #require(OpenBLASCore.best(for: CPUFeatures.current!))
    let corrected = try Self.runChild(mode: "correct", coreType: "Prescott")
    let reference = try Self.runChild(mode: "reference", coreType: best)
    let generic = try Self.runChild(mode: "generic", coreType: "Prescott")

    #expect(corrected.report["load"] == "Prescott")
    #expect(corrected.report["reselected"] == best)
    #expect(corrected.report["now"] == best)
    #expect(reference.report["now"] == best)
    #expect(generic.report["now"] == "Prescott")
    let unsupported = ConformanceTests.unsupported.sorted().joined(separator: ",")
    #expect(corrected.report["conformance_failed"] == unsupported)

    let floats = Self.shapes.reduce(0) { $0 + $1.0 * $1.1 }
    #expect(corrected.bytes.count == 2 * floats * (4 + 8))
    #expect(
      corrected.bytes == reference.bytes, "the corrected kernel's bits differ from the load-time kernel's")
    #expect(generic.bytes != reference.bytes, "Prescott gave the same bits: the test would prove nothing")
  }
}
