import AwesomegradKernels

/// What an x86 CPU can run, read with `cpuid` and `xgetbv`: the vendor, the family and model, and
/// the vector extensions that choose an OpenBLAS kernel.
///
/// A feature counts as usable only when the operating system also saves its registers on a context
/// switch (XCR0): AVX and AVX2 need the YMM state, AVX-512 needs the opmask and ZMM states too. This
/// is the test OpenBLAS itself makes (`support_avx`, `support_avx512` in `driver/others/dynamic.c`).
///
/// Build one by hand to describe another machine (the tests do); ``current`` reads this one.
struct CPUFeatures: Sendable, Equatable, CustomStringConvertible {
  /// The vendor string of `cpuid` leaf 0: `GenuineIntel`, `AuthenticAMD`, `HygonGenuine`, ...;
  /// empty when the CPU is not x86.
  var vendor: String
  /// The display family: the base family, plus the extended family when the base is 15 (Intel SDM
  /// vol. 2A, CPUID leaf 1). Intel's Xeons are family 6; AMD's Zen 4 is family 25 (0x19).
  var family: Int
  /// The display model: the base model, plus the extended model × 16 when the base family is 6 or 15.
  var model: Int
  /// AVX (CPUID.1:ECX[28]) with the YMM state saved by the OS.
  var avx: Bool
  /// AVX2 (CPUID.7.0:EBX[5]), usable only with ``avx``.
  var avx2: Bool
  /// FMA3 (CPUID.1:ECX[12]).
  var fma: Bool
  /// AVX-512 Foundation (CPUID.7.0:EBX[16]).
  var avx512f: Bool
  /// AVX-512 Doubleword and Quadword (CPUID.7.0:EBX[17]).
  var avx512dq: Bool
  /// AVX-512 Byte and Word (CPUID.7.0:EBX[30]).
  var avx512bw: Bool
  /// AVX-512 Vector Length extensions (CPUID.7.0:EBX[31]).
  var avx512vl: Bool
  /// AVX-512 BFloat16 (CPUID.7.1:EAX[5]).
  var avx512bf16: Bool
  /// Whether the OS saves the AVX-512 opmask and ZMM registers (XCR0 bits 5–7).
  var osSavesAVX512State: Bool

  /// A CPU described feature by feature. `avx` means usable: the CPU has it and the OS saves YMM.
  init(
    vendor: String, family: Int, model: Int, avx: Bool = false, avx2: Bool = false, fma: Bool = false,
    avx512f: Bool = false, avx512dq: Bool = false, avx512bw: Bool = false, avx512vl: Bool = false,
    avx512bf16: Bool = false, osSavesAVX512State: Bool = false
  ) {
    self.vendor = vendor
    self.family = family
    self.model = model
    self.avx = avx
    self.avx2 = avx2
    self.fma = fma
    self.avx512f = avx512f
    self.avx512dq = avx512dq
    self.avx512bw = avx512bw
    self.avx512vl = avx512vl
    self.avx512bf16 = avx512bf16
    self.osSavesAVX512State = osSavesAVX512State
  }

  /// Whether AVX2 can run: AVX2 on an AVX-enabled OS.
  var canRunAVX2: Bool { avx && avx2 }

  /// Whether the AVX-512 kernels OpenBLAS calls SkylakeX can run: F, DQ, BW and VL, AVX2, and the OS
  /// saving the ZMM state.
  var canRunAVX512: Bool {
    canRunAVX2 && avx512f && avx512dq && avx512bw && avx512vl && osSavesAVX512State
  }

  /// `GenuineIntel family 6 model 207 (0xcf): AVX2 FMA AVX-512 AVX512-BF16`.
  var description: String {
    if vendor.isEmpty { return "not an x86 CPU" }
    var names: [String] = []
    if avx { names.append("AVX") }
    if canRunAVX2 { names.append("AVX2") }
    if fma { names.append("FMA") }
    if canRunAVX512 { names.append("AVX-512") }
    if canRunAVX512 && avx512bf16 { names.append("AVX512-BF16") }
    let hexModel = "0x" + String(model, radix: 16)
    return "\(vendor) family \(family) model \(model) (\(hexModel)): "
      + (names.isEmpty ? "no AVX" : names.joined(separator: " "))
  }

  /// This machine's CPU, read once with `cpuid` and `xgetbv`; nil when it is not x86.
  static let current: CPUFeatures? = read()

  /// Reads `cpuid` leaves 0, 1 and 7 (subleaves 0 and 1) and XCR0.
  static func read() -> CPUFeatures? {
    func cpuid(_ leaf: UInt32, _ subleaf: UInt32 = 0) -> (eax: UInt32, ebx: UInt32, ecx: UInt32, edx: UInt32)?
    {
      var r: (UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0)
      let ok = withUnsafeMutableBytes(of: &r) { raw in
        awesomegrad_cpuid(leaf, subleaf, raw.baseAddress!.assumingMemoryBound(to: UInt32.self))
      }
      return ok == 0 ? nil : (r.0, r.1, r.2, r.3)
    }
    func bit(_ register: UInt32, _ i: UInt32) -> Bool { register & (1 << i) != 0 }

    guard let leaf0 = cpuid(0), let leaf1 = cpuid(1) else { return nil }
    // The vendor string is EBX, EDX, ECX, four ASCII bytes each, little-endian.
    var vendorBytes: [UInt8] = []
    for register in [leaf0.ebx, leaf0.edx, leaf0.ecx] {
      for shift in stride(from: 0, to: 32, by: 8) {
        vendorBytes.append(UInt8(truncatingIfNeeded: register >> shift))
      }
    }
    let vendor = String(decoding: vendorBytes, as: UTF8.self)

    let baseFamily = Int((leaf1.eax >> 8) & 0xF), extendedFamily = Int((leaf1.eax >> 20) & 0xFF)
    let baseModel = Int((leaf1.eax >> 4) & 0xF), extendedModel = Int((leaf1.eax >> 16) & 0xF)
    let family = baseFamily == 0xF ? baseFamily + extendedFamily : baseFamily
    let model = baseFamily == 0x6 || baseFamily == 0xF ? baseModel + extendedModel << 4 : baseModel

    let xcr0 = awesomegrad_xcr0()
    let osSavesYMM = xcr0 & 0x6 == 0x6  // SSE and AVX state
    let osSavesZMM = xcr0 & 0xE0 == 0xE0  // opmask, ZMM_Hi256, Hi16_ZMM
    let leaf7 = leaf0.eax >= 7 ? cpuid(7, 0) : nil
    let leaf71 = leaf0.eax >= 7 && (leaf7?.eax ?? 0) >= 1 ? cpuid(7, 1) : nil
    let ebx7 = leaf7?.ebx ?? 0
    return CPUFeatures(
      vendor: vendor, family: family, model: model,
      avx: bit(leaf1.ecx, 28) && osSavesYMM,
      avx2: bit(ebx7, 5),
      fma: bit(leaf1.ecx, 12),
      avx512f: bit(ebx7, 16), avx512dq: bit(ebx7, 17), avx512bw: bit(ebx7, 30), avx512vl: bit(ebx7, 31),
      avx512bf16: bit(leaf71?.eax ?? 0, 5),
      osSavesAVX512State: osSavesYMM && osSavesZMM)
  }
}
