import AwesomegradKernels

/// Which build of the C vector kernels (`AwesomegradKernels`: Adam's update and the exact GELU in
/// Float) this process runs.
///
/// Swift compiles the library for the baseline of its target (SSE2 on x86-64: 4 Float lanes) and has
/// no per-function target attribute, so these memory-streaming loops are C, compiled for the baseline,
/// AVX2 and AVX-512F; the best one the CPU and the OS support is chosen once from ``CPUFeatures``.
/// Every build computes the scalar Swift formula's operations in the same order without FMA
/// contraction, so the choice changes the speed, never the bits (tested).
enum VectorKernels {
  /// The instruction sets the kernels are built for.
  enum InstructionSet: Sendable, CaseIterable {
    /// The target's baseline (SSE2 on x86-64), for every CPU.
    case baseline
    /// AVX2: 8 Float lanes.
    case avx2
    /// AVX-512F: 16 Float lanes.
    case avx512

    var c: awesomegrad_isa {
      switch self {
      case .baseline: awesomegrad_isa_baseline
      case .avx2: awesomegrad_isa_avx2
      case .avx512: awesomegrad_isa_avx512
      }
    }
  }

  /// The build this process uses: ``choose(for:)`` of ``CPUFeatures/current``.
  static let selected: InstructionSet = choose(for: CPUFeatures.current)

  /// The C enumerator of ``selected``.
  static let instructionSet: awesomegrad_isa = selected.c

  /// The widest build that both this binary contains and `features` can run: AVX-512F when the CPU
  /// has it and the OS saves its registers, else AVX2, else the baseline (also off x86-64).
  static func choose(for features: CPUFeatures?) -> InstructionSet {
    [.avx512, .avx2].first { canRun($0, on: features) } ?? .baseline
  }

  /// Whether this binary contains `set` and `features` (nil: no cpuid) can run it.
  static func canRun(_ set: InstructionSet, on features: CPUFeatures?) -> Bool {
    guard isBuilt(set) else { return false }
    switch set {
    case .baseline: return true
    case .avx2: return features?.canRunAVX2 ?? false
    case .avx512: return features?.canRunAVX512 ?? false
    }
  }

  /// Whether this binary contains the kernels for `set` (AVX2 and AVX-512 only on x86-64).
  static func isBuilt(_ set: InstructionSet) -> Bool { awesomegrad_kernels_have(set.c) != 0 }
}

extension VectorKernels {
  /// The builds that this binary contains and this CPU can run, baseline first (for tests and
  /// benchmarks that compare them).
  static var runnableHere: [InstructionSet] {
    InstructionSet.allCases.filter { canRun($0, on: CPUFeatures.current) }
  }
}
