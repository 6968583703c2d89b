// Float vector kernels of the Awesomegrad training loop, compiled once per instruction set.
//
// Swift code is compiled for the baseline x86-64 (SSE2: 4 lanes), and Swift has no per-function
// target attribute. These loops are the same arithmetic as the Swift scalar code, written in C and
// compiled three times (baseline, AVX2, AVX-512F) through clang's `target` attribute; Swift picks one
// per process from `CPUFeatures` (`VectorKernels.swift`). Contraction into FMA is off, so every
// variant gives the bits of the Swift scalar formula (the tests check it).
#ifndef AWESOMEGRAD_KERNELS_H
#define AWESOMEGRAD_KERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

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

#ifdef __cplusplus
}
#endif

#endif
