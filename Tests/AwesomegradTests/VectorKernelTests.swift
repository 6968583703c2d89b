import AwesomegradKernels
import Testing

@testable import Awesomegrad

/// The C builds of Adam's Float update give the bits of its scalar definition on every instruction
/// set this CPU runs, and the library picks the widest.
@Suite struct VectorKernelTests {
  /// One Adam step (coupled L2 and AdamW's decoupled decay, separately) over 1,003 parameters with
  /// gradients of every magnitude, against the formula of `Adam.swift` in scalar Swift:
  ///   p ← p·decay;  d ← g + l2·p;  m ← m + (1 − β₁)(d − m);  v ← v·β₂ + (1 − β₂)·d·d;
  ///   p ← p − s·(m / (√v / c₂ + ε)).
  @Test(arguments: VectorKernels.runnableHere)
  func adamEqualsTheScalarFormulaBitForBit(_ set: VectorKernels.InstructionSet) {
    let count = 1003
    let p0 = (0..<count).map { Float(($0 * 37) % 101 - 50) * 0.013 }
    let g0 = (0..<count).map { i -> Float in
      let magnitude = Float(1 << (i % 20)) * 1e-5
      return Float((i * 53) % 97 - 48) * magnitude
    }
    let m0 = (0..<count).map { Float(($0 * 11) % 13 - 6) * 1e-3 }
    let v0 = (0..<count).map { Float(($0 * 7) % 17) * 1e-4 }
    for (l2, decay) in [(Float(0.01), Float(1)), (Float(0), Float(1 - 1e-3 * 0.1))] {
      var (p, m, v) = (p0, m0, v0)
      let (stepSize, c2, beta1, beta2, eps): (Float, Float, Float, Float, Float) = (0.0031, 0.0447, 0.9, 0.999, 1e-8)
      awesomegrad_adam_f32(set.c, &p, g0, &m, &v, count, stepSize, c2, beta1, beta2, eps, l2, decay)
      for i in 0..<count {
        var pv = p0[i]
        if decay != 1 { pv *= decay }
        var d = g0[i]
        if l2 != 0 { d += l2 * pv }
        let mv = m0[i] + (1 - beta1) * (d - m0[i])
        let vv = v0[i] * beta2 + (1 - beta2) * d * d
        pv -= stepSize * (mv / (vv.squareRoot() / c2 + eps))
        #expect(m[i].bitPattern == mv.bitPattern && v[i].bitPattern == vv.bitPattern, "\(set) \(i)")
        #expect(p[i].bitPattern == pv.bitPattern, "\(set) \(i): \(p[i]) vs \(pv)")
      }
    }
  }

  /// The choice follows the CPU: AVX-512 needs the OS to save its registers, AVX2 needs AVX, and
  /// without cpuid (another architecture) the baseline runs.
  @Test func choiceFollowsTheFeatures() {
    func features(avx2: Bool, avx512: Bool, osSaves: Bool = true) -> CPUFeatures {
      CPUFeatures(
        vendor: "AuthenticAMD", family: 25, model: 17, avx: avx2, avx2: avx2, fma: avx2, avx512f: avx512,
        avx512dq: avx512, avx512bw: avx512, avx512vl: avx512, avx512bf16: false, osSavesAVX512State: osSaves)
    }
    let x86 = VectorKernels.isBuilt(.avx512)
    #expect(VectorKernels.choose(for: nil) == .baseline)
    #expect(VectorKernels.choose(for: features(avx2: false, avx512: false)) == .baseline)
    #expect(VectorKernels.choose(for: features(avx2: true, avx512: false)) == (x86 ? .avx2 : .baseline))
    #expect(VectorKernels.choose(for: features(avx2: true, avx512: true)) == (x86 ? .avx512 : .baseline))
    #expect(
      VectorKernels.choose(for: features(avx2: true, avx512: true, osSaves: false)) == (x86 ? .avx2 : .baseline))
    #expect(VectorKernels.selected == VectorKernels.choose(for: CPUFeatures.current))
  }
}
