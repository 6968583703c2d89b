// See include/awesomegrad_kernels.h. Each kernel body is written once, as a macro, and instantiated
// for every instruction set; clang vectorises each instance for its target.
#include "awesomegrad_kernels.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "non_positive_exp.h"

// a·b + c stays two roundings, as in Swift: the variants must give the scalar formula's bits.
#pragma STDC FP_CONTRACT OFF
#pragma clang fp contract(off)

// A correctly rounded square root without errno: sqrtf may set errno for a negative input, which
// keeps a scalar libm call in the loop and stops vectorisation.
#if defined(__has_builtin) && __has_builtin(__builtin_elementwise_sqrt)
#define SQRT(x) __builtin_elementwise_sqrt(x)
#else
#define SQRT(x) sqrtf(x)
#endif

// Float.rationalErf: x·P(x²)/Q(x²) on [−4, 4], clamped to [−1, 1]. The clamps are selects, so NaN
// (every comparison false) passes through, as with Swift's min and max.
#define RATIONAL_ERF(x, out)                                                                        \
  do {                                                                                             \
    float c_ = (x) < -4.0f ? -4.0f : (x);                                                          \
    c_ = c_ > 4.0f ? 4.0f : c_;                                                                    \
    const float x2_ = c_ * c_;                                                                     \
    float p_ = -2.72614225801306e-10f;                                                             \
    p_ = p_ * x2_ + 2.77068142495902e-08f;                                                         \
    p_ = p_ * x2_ - 2.10102402082508e-06f;                                                         \
    p_ = p_ * x2_ - 5.69250639462346e-05f;                                                         \
    p_ = p_ * x2_ - 7.34990630326855e-04f;                                                         \
    p_ = p_ * x2_ - 2.95459980854025e-03f;                                                         \
    p_ = p_ * x2_ - 1.60960333262415e-02f;                                                         \
    float q_ = -1.45660718464996e-05f;                                                             \
    q_ = q_ * x2_ - 2.13374055278905e-04f;                                                         \
    q_ = q_ * x2_ - 1.68282697438203e-03f;                                                         \
    q_ = q_ * x2_ - 7.37332916720468e-03f;                                                         \
    q_ = q_ * x2_ - 1.42647390514189e-02f;                                                         \
    float r_ = c_ * p_ / q_;                                                                       \
    r_ = r_ < -1.0f ? -1.0f : r_;                                                                  \
    (out) = r_ > 1.0f ? 1.0f : r_;                                                                 \
  } while (0)

#define DEFINE_KERNELS(SUFFIX, ATTRIBUTE)                                                           \
  ATTRIBUTE static void adam_##SUFFIX(float *restrict p, const float *restrict g, float *restrict m, \
                                      float *restrict v, size_t count, float stepSize,              \
                                      float correction2Root, float beta1, float beta2, float eps,   \
                                      float l2, float decay) {                                      \
    const float oneMinusBeta1 = 1.0f - beta1, oneMinusBeta2 = 1.0f - beta2;                         \
    for (size_t i = 0; i < count; i++) {                                                            \
      float pv = p[i];                                                                              \
      if (decay != 1.0f) pv = pv * decay;                                                           \
      float d = g[i];                                                                               \
      if (l2 != 0.0f) d = d + l2 * pv;                                                              \
      float mv = m[i];                                                                              \
      mv = mv + oneMinusBeta1 * (d - mv);                                                           \
      const float vv = v[i] * beta2 + oneMinusBeta2 * d * d;                                        \
      const float denominator = SQRT(vv) / correction2Root + eps;                                      \
      pv = pv - stepSize * (mv / denominator);                                                      \
      m[i] = mv;                                                                                    \
      v[i] = vv;                                                                                    \
      p[i] = pv;                                                                                    \
    }                                                                                               \
  }                                                                                                 \
  ATTRIBUTE static void gelu_forward_##SUFFIX(const float *restrict x, float *restrict y,            \
                                              size_t count) {                                       \
    for (size_t i = 0; i < count; i++) {                                                            \
      const float value = x[i];                                                                     \
      float erf;                                                                                    \
      RATIONAL_ERF(value * 0.7071067811865476f, erf);                                               \
      y[i] = 0.5f * value * (1.0f + erf);                                                           \
    }                                                                                               \
  }                                                                                                 \
  ATTRIBUTE static void gelu_backward_##SUFFIX(const float *restrict g, const float *restrict x,     \
                                               float *restrict out, size_t count) {                 \
    for (size_t i = 0; i < count; i++) {                                                            \
      const float value = x[i];                                                                     \
      float erf, e;                                                                                 \
      RATIONAL_ERF(value * 0.7071067811865476f, erf);                                               \
      NON_POSITIVE_EXP(-0.5f * value * value, e);                                                   \
      const float cdf = 0.5f * (1.0f + erf);                                                        \
      const float density = 0.3989422804014327f * e;                                                \
      out[i] = g[i] * (cdf + value * density);                                                      \
    }                                                                                               \
  }                                                                                                 \
  ATTRIBUTE static void exp_shifted_##SUFFIX(const float *x, float shift, float *y,                   \
                                             size_t count) {                                        \
    for (size_t i = 0; i < count; i++) {                                                            \
      float e;                                                                                      \
      NON_POSITIVE_EXP(x[i] - shift, e);                                                            \
      y[i] = e;                                                                                     \
    }                                                                                               \
  }

DEFINE_KERNELS(baseline, )
#if defined(__x86_64__) && defined(__clang__)
DEFINE_KERNELS(avx2, __attribute__((target("avx2"))))
DEFINE_KERNELS(avx512, __attribute__((target("avx512f"))))
#define HAVE_X86_VARIANTS 1
#else
#define HAVE_X86_VARIANTS 0
#endif

int awesomegrad_kernels_have(awesomegrad_isa isa) { return isa == awesomegrad_isa_baseline || HAVE_X86_VARIANTS; }

#if HAVE_X86_VARIANTS
#define DISPATCH(isa, name, ...)                                                                    \
  switch (isa) {                                                                                    \
  case awesomegrad_isa_avx512: name##_avx512(__VA_ARGS__); return;                                  \
  case awesomegrad_isa_avx2: name##_avx2(__VA_ARGS__); return;                                      \
  default: name##_baseline(__VA_ARGS__); return;                                                    \
  }
#else
#define DISPATCH(isa, name, ...) name##_baseline(__VA_ARGS__);
#endif

void awesomegrad_adam_f32(awesomegrad_isa isa, float *p, const float *g, float *m, float *v, size_t count,
                          float stepSize, float correction2Root, float beta1, float beta2, float eps, float l2,
                          float decay) {
  DISPATCH(isa, adam, p, g, m, v, count, stepSize, correction2Root, beta1, beta2, eps, l2, decay)
}

void awesomegrad_gelu_exact_forward_f32(awesomegrad_isa isa, const float *x, float *y, size_t count) {
  DISPATCH(isa, gelu_forward, x, y, count)
}

void awesomegrad_gelu_exact_backward_f32(awesomegrad_isa isa, const float *g, const float *x, float *out,
                                         size_t count) {
  DISPATCH(isa, gelu_backward, g, x, out, count)
}

void awesomegrad_exp_shifted_f32(awesomegrad_isa isa, const float *x, float shift, float *y, size_t count) {
  DISPATCH(isa, exp_shifted, x, shift, y, count)
}
