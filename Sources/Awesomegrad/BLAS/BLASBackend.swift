import CBLAS

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What the library did about the kernel OpenBLAS chose for this CPU (see ``BLASBackend``).
public enum BLASCoreCorrection: Sendable, Equatable, CustomStringConvertible {
  /// OpenBLAS's choice fits the CPU (or the CPU is not x86, or nothing better exists).
  case none
  /// `OPENBLAS_CORETYPE` was set by the user; it always wins and was left alone.
  case userSetting(String)
  /// OpenBLAS had fallen back to a generic kernel; the library re-selected the right one in-process
  /// before the first BLAS call.
  case corrected(from: String, to: String)
  /// OpenBLAS runs a generic kernel and the library could not change it; the message (printed once to
  /// standard error) says what to do.
  case warning(String)
  /// This OpenBLAS is not one of the versions the re-selection is for (0.3.20–0.3.24), so the
  /// library neither checked nor changed its kernel; the reason names the version.
  case notApplicable(String)

  /// `none`, `user OPENBLAS_CORETYPE=SkylakeX`, `corrected Prescott -> Cooperlake`, `warning: ...`
  /// or `not applied (...)`.
  public var description: String {
    switch self {
    case .none: "none"
    case .userSetting(let core): "user OPENBLAS_CORETYPE=\(core)"
    case .corrected(let from, let to): "corrected \(from) -> \(to)"
    case .warning(let message): "warning: \(message)"
    case .notApplicable(let reason): "not applied (\(reason))"
    }
  }
}

/// The BLAS library behind matmul: which OpenBLAS, which kernel ("core") it runs, how many threads,
/// and whether the library had to correct its choice of kernel.
///
/// OpenBLAS built with `DYNAMIC_ARCH` (Debian's, Ubuntu's and Homebrew's) picks a kernel from `cpuid`
/// at load time. Versions 0.3.20–0.3.24 fall back to the generic SSE3 kernel `Prescott` on Intel
/// models they do not know (OpenBLAS issue 4267, fixed in 0.3.25), which makes sgemm 4–5× slower on
/// an AVX-512 Xeon. On those versions only, the library compares the chosen core with the CPU's
/// features once, in ``prepare()``, and when OpenBLAS fell back it re-selects the right kernel (see
/// "The BLAS kernel" in docs/DESIGN.md). On any other version it does nothing, and ``correction``
/// says so. A user's own `OPENBLAS_CORETYPE` always wins.
///
/// ```swift
/// print(BLASBackend.current)
/// // OpenBLAS 0.3.21, core Cooperlake, 1 thread, correction none
/// ```
public struct BLASBackend: Sendable, Equatable, CustomStringConvertible {
  /// The version number from the config string, such as `0.3.21`; empty when it has none.
  public var version: String
  /// OpenBLAS's build description (`openblas_get_config()`), such as
  /// `OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Cooperlake MAX_THREADS=64`.
  public var config: String
  /// The kernel OpenBLAS runs (`openblas_get_corename()`), such as `Cooperlake`, `SkylakeX`,
  /// `Haswell`, `Zen` or `Prescott`.
  public var coreName: String
  /// The threads a product uses: the library's ``threadCount``. Products are split into blocks on
  /// the library's pool, and OpenBLAS runs each block on one thread (`openblas_get_num_threads()` is 1).
  public var threads: Int
  /// What the library did about OpenBLAS's choice of kernel.
  public var correction: BLASCoreCorrection
  /// This machine's CPU, or nil when it is not x86.
  var cpu: CPUFeatures?

  /// The backend as it is now. Reading it runs ``prepare()`` first, so ``coreName`` is the kernel
  /// every product of this process uses.
  public static var current: BLASBackend {
    let correction = prepare()
    let config = String(cString: openblas_get_config())
    return BLASBackend(
      version: OpenBLASCore.version(fromConfig: config), config: config,
      coreName: String(cString: openblas_get_corename()), threads: threadCount,
      correction: correction, cpu: CPUFeatures.current)
  }

  /// `OpenBLAS 0.3.21, core Cooperlake, 1 thread, correction none`; on a version the re-selection
  /// is not for, `correction not applied (OpenBLAS 0.3.26 is not 0.3.20–0.3.24, …)`.
  public var description: String {
    "OpenBLAS \(version), core \(coreName), \(threads) thread\(threads == 1 ? "" : "s"), correction \(correction)"
  }

  /// Prepares OpenBLAS for this process, once, and returns what it did about the kernel: the entry
  /// point of the library's only process-wide change to OpenBLAS.
  ///
  /// On OpenBLAS 0.3.20–0.3.24 it checks the kernel OpenBLAS chose and, when that is a generic
  /// fallback, re-selects the right one (``BLASCoreCorrection``); on other versions it leaves the
  /// kernel alone (``BLASCoreCorrection/notApplicable(_:)``). Either way it puts OpenBLAS's own
  /// threads to one, since the library runs products on its own pool.
  ///
  /// The first call does the work (thread-safely: a concurrent caller waits for it) and later calls
  /// only return the result. The library calls it before each of its uses of OpenBLAS (every matrix
  /// product and LAPACK solve), before it starts its thread pool, and before it reads
  /// `AWESOMEGRAD_NUM_THREADS`, so none of its own threads reads the environment while the
  /// re-selection sets `OPENBLAS_CORETYPE` (`setenv` is not safe against a concurrent `getenv` in
  /// glibc). A program that starts threads of its own that may read the environment or call OpenBLAS
  /// should call it first, at the top of `main`, or set `OPENBLAS_CORETYPE` itself.
  @discardableResult
  public static func prepare() -> BLASCoreCorrection { BLAS.checkedCore.correction }
}

/// OpenBLAS's x86 kernels ("cores") and the decision whether the one it chose is a fallback.
enum OpenBLASCore {
  /// The cores with no AVX kernels: OpenBLAS's SSE-era targets, named as `openblas_get_corename()`
  /// returns them (compared case-insensitively), plus the names it uses when it knows no core.
  static let generic: Set<String> = [
    "unknown", "generic", "katmai", "coppermine", "northwood", "prescott", "banias", "atom", "core2",
    "penryn", "dunnington", "nehalem", "athlon", "opteron", "opteron_sse3", "barcelona", "nano", "bobcat",
  ]

  /// Whether `core` is one of the ``generic`` cores.
  static func isGeneric(_ core: String) -> Bool { generic.contains(core.lowercased()) }

  /// The best x86-64 kernel of OpenBLAS 0.3.21 for the CPU, as `OPENBLAS_CORETYPE` spells it, or nil
  /// when the CPU has no AVX (then a generic kernel is the right one):
  ///
  /// - AVX-512 F, DQ, BW and VL: `Cooperlake` with AVX512-BF16, else `SkylakeX`;
  /// - AVX2 and FMA: `Zen` on AMD and Hygon, else `Haswell`;
  /// - AVX: `Sandybridge`.
  static func best(for cpu: CPUFeatures) -> String? {
    if cpu.canRunAVX512 { return cpu.avx512bf16 ? "Cooperlake" : "SkylakeX" }
    if cpu.canRunAVX2 && cpu.fma {
      return cpu.vendor == "AuthenticAMD" || cpu.vendor == "HygonGenuine" ? "Zen" : "Haswell"
    }
    if cpu.avx { return "Sandybridge" }
    return nil
  }

  /// The decision: the core to switch to, or nil to keep the one OpenBLAS `selected`.
  ///
  /// Switches only when OpenBLAS runs a ``generic`` core on a CPU it has an AVX kernel for
  /// (``best(for:)``), and never when the user set `OPENBLAS_CORETYPE` (`userCoreType`). A
  /// non-generic choice (say `Haswell` on an AVX-512 CPU) is OpenBLAS's deliberate call and is kept.
  static func correction(selected: String, cpu: CPUFeatures?, userCoreType: String?) -> String? {
    if let userCoreType, !userCoreType.isEmpty { return nil }
    guard let cpu, isGeneric(selected), let best = best(for: cpu) else { return nil }
    return best
  }

  /// The versions whose fallback (OpenBLAS issue 4267) the in-process re-selection is for, and was
  /// proven on: 0.3.20 through 0.3.24. 0.3.25 fixed the fallback; older versions are untested.
  static let provenVersions = "0.3.20"..."0.3.24"

  /// Whether `version` (such as `0.3.21`, or `0.3.21.dev`) is one of ``provenVersions``: its first
  /// three numbers, compared as numbers.
  static func isProven(version: String) -> Bool {
    func numbers(_ text: String) -> [Int] {
      text.split(separator: ".").prefix(3).map { Int($0.prefix { $0.isNumber }) ?? -1 }
    }
    let (v, low, high) = (
      numbers(version), numbers(provenVersions.lowerBound), numbers(provenVersions.upperBound)
    )
    return v.count == 3 && !v.contains(-1) && !v.lexicographicallyPrecedes(low)
      && !high.lexicographicallyPrecedes(v)
  }

  /// The version number in a config string: the word after `OpenBLAS`.
  static func version(fromConfig config: String) -> String {
    let words = config.split(separator: " ")
    guard let i = words.firstIndex(of: "OpenBLAS"), i + 1 < words.count else { return "" }
    return String(words[i + 1])
  }

  /// Re-selects OpenBLAS's kernel in-process: `gotoblas_dynamic_quit()` forgets the current core and
  /// `gotoblas_dynamic_init()` selects again, reading `OPENBLAS_CORETYPE`, which is set to `core` for
  /// the call and then restored. Returns the core OpenBLAS runs afterwards, or nil when this OpenBLAS
  /// has no run-time selection (not built with `DYNAMIC_ARCH`).
  ///
  /// Safe only before the process's first BLAS call and with no other thread inside OpenBLAS: between
  /// the two calls OpenBLAS has no core. Why nothing set up at load time depends on the old core is
  /// in docs/DESIGN.md ("The BLAS kernel").
  static func reselect(_ core: String) -> String? {
    typealias Entry = @convention(c) () -> Void
    guard let quit = awesomegrad_loaded_symbol("gotoblas_dynamic_quit"),
      let initialize = awesomegrad_loaded_symbol("gotoblas_dynamic_init")
    else { return nil }
    let previous = getenv("OPENBLAS_CORETYPE").map { String(cString: $0) }
    setenv("OPENBLAS_CORETYPE", core, 1)
    unsafeBitCast(quit, to: Entry.self)()
    unsafeBitCast(initialize, to: Entry.self)()
    if let previous { setenv("OPENBLAS_CORETYPE", previous, 1) } else { unsetenv("OPENBLAS_CORETYPE") }
    return String(cString: openblas_get_corename())
  }

  /// Why the re-selection was not applied to OpenBLAS `version`, for ``BLASBackend/description``.
  static func notApplicableReason(version: String) -> String {
    let range = "\(provenVersions.lowerBound)–\(provenVersions.upperBound)"
    return "OpenBLAS \(version.isEmpty ? "of unknown version" : version) is not \(range), the versions whose "
      + "generic-kernel fallback (OpenBLAS issue 4267, fixed in 0.3.25) the in-process re-selection is for; "
      + "its own choice of kernel is kept"
  }

  /// The one warning printed when the library cannot switch OpenBLAS away from a generic kernel: what
  /// happened and exactly what to set (`OPENBLAS_CORETYPE`) or, for an OpenBLAS built for one core,
  /// what to install.
  static func warning(selected: String, target: String, cpu: CPUFeatures, config: String) -> String {
    if config.contains("DYNAMIC_ARCH") {
      return "OpenBLAS \(version(fromConfig: config)) chose its generic '\(selected)' kernel for this CPU "
        + "(\(cpu)) and could not be switched in-process; matrix products run several times slower. "
        + "Set OPENBLAS_CORETYPE=\(target) in the environment before starting the program "
        + "(OpenBLAS issue 4267, fixed in 0.3.25)."
    }
    return "this OpenBLAS (\(config)) is built for the generic '\(selected)' kernel only, on a CPU with "
      + "\(target) kernels (\(cpu)); matrix products run several times slower. Install an OpenBLAS "
      + "built with DYNAMIC_ARCH=1 or for TARGET=\(target.uppercased())."
  }

  /// The one-time check behind `BLAS.checkedCore`: decides, corrects or warns (once, on standard
  /// error), and returns what it did. Only on ``provenVersions``; on another version it returns
  /// `.notApplicable` before reading the CPU or touching the environment.
  static func checkAndCorrect() -> BLASCoreCorrection {
    let user = getenv("OPENBLAS_CORETYPE").map { String(cString: $0) }
    if let user, !user.isEmpty { return .userSetting(user) }
    let version = version(fromConfig: String(cString: openblas_get_config()))
    guard isProven(version: version) else { return .notApplicable(notApplicableReason(version: version)) }
    let selected = String(cString: openblas_get_corename())
    let cpu = CPUFeatures.current
    guard let cpu, let target = correction(selected: selected, cpu: cpu, userCoreType: user) else {
      return .none
    }
    if let now = reselect(target), !isGeneric(now) { return .corrected(from: selected, to: now) }
    let message = warning(
      selected: selected, target: target, cpu: cpu, config: String(cString: openblas_get_config()))
    let line = Array("Awesomegrad warning: \(message)\n".utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }  // standard error, unbuffered
    return .warning(message)
  }
}

/// What the one-time kernel check found: what it did, and a fact about the kernel that runs.
struct CheckedCore: Sendable {
  /// What the library did about OpenBLAS's choice of kernel.
  var correction: BLASCoreCorrection
  /// Whether the core is one of OpenBLAS's AVX-512 cores (SkylakeX, Cooperlake, SapphireRapids),
  /// whose small-matrix kernels refuse some small A·Bᵀ products (`BLAS.smallProductRefusesTN`).
  var smallTransposedBIsSlow: Bool
}

extension BLAS {
  /// The kernel check behind ``BLASBackend/prepare()``, run once before the first BLAS call (every
  /// doorway function reads it first), before the thread pool starts and before the thread count
  /// reads the environment.
  ///
  /// A `static let` is initialised exactly once, thread-safely, on first access (`swift_once`); after
  /// that a read costs one load and compare. It is the only global this check keeps, and it never
  /// changes once set. The other state it touches is OpenBLAS's own (its selected core) and, for the
  /// duration of the switch, the process environment's `OPENBLAS_CORETYPE`.
  static let checkedCore: CheckedCore = {
    let correction = OpenBLASCore.checkAndCorrect()
    // OpenBLAS's own threads stay idle: the library's pool runs products in blocks (`BLAS.gemm`).
    openblas_set_num_threads(1)
    let core = String(cString: openblas_get_corename()).lowercased()
    return CheckedCore(
      correction: correction,
      smallTransposedBIsSlow: ["skylakex", "cooperlake", "sapphirerapids"].contains(core))
  }()
}
