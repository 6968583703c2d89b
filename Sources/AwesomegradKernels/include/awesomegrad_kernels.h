// The project's own C: the CPU facts Swift cannot read (cpuid, xgetbv), glibc's mallopt, and Float
// vector kernels of the training loop (Adam, exact GELU, softmax's exp), compiled once per
// instruction set.
//
// Swift code is compiled for the baseline x86-64 (SSE2: 4 lanes), and Swift has no per-function
// target attribute. These loops are the same arithmetic as the Swift scalar code, written in C and
// compiled three times (baseline, AVX2, AVX-512F) through clang's `target` attribute; Swift picks one
// per process from `CPUFeatures` (`VectorKernels.swift`). Contraction into FMA is off, so every
// variant gives the bits of the Swift scalar formula (the tests check it).
#ifndef AWESOMEGRAD_KERNELS_H
#define AWESOMEGRAD_KERNELS_H

#include <stddef.h>

// glibc's malloc tuning (mallopt), for keepFreedMemoryForReuse() in CPU/Allocator.swift.
#if defined(__linux__)
#include <malloc.h>
#endif

// --- What the CPU can run (CPU/CPUFeatures.swift) ------------------------------------------------

#include <stdint.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

/// Runs `cpuid` with the leaf and subleaf and stores eax, ebx, ecx, edx in `registers`. Returns 0
/// (and zeros) when the CPU is not x86 or the leaf is above the highest one it supports.
static inline int awesomegrad_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t registers[4]) {
  registers[0] = registers[1] = registers[2] = registers[3] = 0;
#if defined(__x86_64__) || defined(__i386__)
  uint32_t highest = __get_cpuid_max(leaf & 0x80000000u, 0);
  if (highest == 0 || leaf > highest) return 0;
  __cpuid_count(leaf, subleaf, registers[0], registers[1], registers[2], registers[3]);
  return 1;
#else
  (void)leaf;
  (void)subleaf;
  return 0;
#endif
}

/// The low 32 bits of XCR0 (which register states the operating system saves: bit 1 SSE, bit 2 AVX,
/// bits 5-7 AVX-512), or 0 when the OS has not enabled `xgetbv` (CPUID.1:ECX.OSXSAVE[bit 27]) or the
/// CPU is not x86.
static inline uint32_t awesomegrad_xcr0(void) {
#if defined(__x86_64__) || defined(__i386__)
  uint32_t r[4];
  if (!awesomegrad_cpuid(1, 0, r) || (r[2] & (1u << 27)) == 0) return 0;
  uint32_t eax, edx;
  __asm__ __volatile__("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  (void)edx;
  return eax;
#else
  return 0;
#endif
}

#ifdef __cplusplus
extern "C" {
#endif

/// The number of cores this process may run on: its affinity mask on Linux (`sched_getaffinity`,
/// which `taskset`, containers and MPI's binding restrict), the online processors elsewhere.
int awesomegrad_available_cores(void);

/// Lets thread `task` (a Linux thread id, 0 for the caller) run on every CPU; the kernel keeps only
/// those the process's cgroup allows. AwesomegradDistributed undoes mpirun's default binding with it.
/// Returns 0, or -1 (with errno) on failure and on systems without CPU affinity.
int awesomegrad_allow_every_cpu(int task);

/// The instruction sets a kernel can be compiled for.
typedef enum {
  awesomegrad_isa_baseline = 0,
  awesomegrad_isa_avx2 = 1,
  awesomegrad_isa_avx512 = 2,
} awesomegrad_isa;

/// Whether this build has kernels for `isa` (AVX2 and AVX-512 exist only on x86-64).
int awesomegrad_kernels_have(awesomegrad_isa isa);

/// One Adam/AdamW step over `count` parameters (see `Adam.swift` for the formula):
///   p ← p·decay;  d ← g + l2·p;  m ← m + (1 − β₁)(d − m);  v ← v·β₂ + (1 − β₂)·d·d;
///   p ← p − stepSize·(m / (√v / correction2Root + eps)).
void awesomegrad_adam_f32(awesomegrad_isa isa, float *p, const float *g, float *m, float *v, size_t count,
                          float stepSize, float correction2Root, float beta1, float beta2, float eps, float l2,
                          float decay);

/// y = ½x(1 + erf(x/√2)) with the rational erf of `Float.rationalErf`.
void awesomegrad_gelu_exact_forward_f32(awesomegrad_isa isa, const float *x, float *y, size_t count);

/// out = g·(Φ(x) + x·φ(x)), the exact GELU's pullback.
void awesomegrad_gelu_exact_backward_f32(awesomegrad_isa isa, const float *g, const float *x, float *out,
                                         size_t count);

/// y = e^(x − shift) with `Float.nonPositiveExp` (the argument is taken as ≤ 0: softmax's shift by
/// the row's maximum); `y` may be `x`.
void awesomegrad_exp_shifted_f32(awesomegrad_isa isa, const float *x, float shift, float *y, size_t count);

#ifdef __cplusplus
}
#endif

#endif
