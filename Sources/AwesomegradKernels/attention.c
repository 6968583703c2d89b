// See include/awesomegrad_attention.h. Each kernel body is written once, as a macro, and instantiated
// for every instruction set, as in kernels.c.
#include "awesomegrad_attention.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "non_positive_exp.h"

// a·b + c stays two roundings: the variants must give the same bits.
#pragma STDC FP_CONTRACT OFF
#pragma clang fp contract(off)

// The number of partial sums of a row: element c adds into lane c mod LANES.
#define LANES 16

// The maximum of the LANES partial maxima and of `tail`, in a fixed order; NaN never wins (a > b is
// false when either is NaN).
#define REDUCE_MAX(lanes, tail, out)                                                                \
  do {                                                                                              \
    float m_ = (tail);                                                                              \
    for (int l_ = 0; l_ < LANES; l_++) m_ = (lanes)[l_] > m_ ? (lanes)[l_] : m_;                    \
    (out) = m_;                                                                                     \
  } while (0)

// The sum of the LANES partial sums, pairwise in a fixed tree.
#define REDUCE_SUM(lanes, out)                                                                      \
  do {                                                                                              \
    float s_[LANES];                                                                                \
    for (int l_ = 0; l_ < LANES; l_++) s_[l_] = (lanes)[l_];                                        \
    for (int w_ = LANES / 2; w_ > 0; w_ /= 2)                                                       \
      for (int l_ = 0; l_ < w_; l_++) s_[l_] = s_[l_] + s_[l_ + w_];                                \
    (out) = s_[0];                                                                                  \
  } while (0)

// The maximum of x[0..<count] over LANES lanes (the tail into lane c mod LANES too).
#define ROW_MAX(x, count, out)                                                                      \
  do {                                                                                              \
    float lanes_[LANES];                                                                            \
    for (int l_ = 0; l_ < LANES; l_++) lanes_[l_] = -INFINITY;                                      \
    size_t col_ = 0;                                                                                \
    for (; col_ + LANES <= (count); col_ += LANES)                                                  \
      for (int l_ = 0; l_ < LANES; l_++) {                                                          \
        const float v_ = (x)[col_ + l_];                                                            \
        lanes_[l_] = v_ > lanes_[l_] ? v_ : lanes_[l_];                                             \
      }                                                                                             \
    for (size_t tail_ = col_; tail_ < (count); tail_++) {                                           \
      const float v_ = (x)[tail_];                                                                  \
      lanes_[tail_ - col_] = v_ > lanes_[tail_ - col_] ? v_ : lanes_[tail_ - col_];                 \
    }                                                                                               \
    REDUCE_MAX(lanes_, -INFINITY, out);                                                             \
  } while (0)

// x[c] ← e^(x[c] − m) for c < count and their sum over LANES lanes.
#define EXP_AND_SUM(x, count, m, out)                                                               \
  do {                                                                                              \
    float lanes_[LANES];                                                                            \
    for (int l_ = 0; l_ < LANES; l_++) lanes_[l_] = 0.0f;                                           \
    size_t col_ = 0;                                                                                \
    for (; col_ + LANES <= (count); col_ += LANES)                                                  \
      for (int l_ = 0; l_ < LANES; l_++) {                                                          \
        float e_;                                                                                   \
        NON_POSITIVE_EXP((x)[col_ + l_] - (m), e_);                                                 \
        (x)[col_ + l_] = e_;                                                                        \
        lanes_[l_] = lanes_[l_] + e_;                                                               \
      }                                                                                             \
    for (size_t tail_ = col_; tail_ < (count); tail_++) {                                           \
      float e_;                                                                                     \
      NON_POSITIVE_EXP((x)[tail_] - (m), e_);                                                       \
      (x)[tail_] = e_;                                                                              \
      lanes_[tail_ - col_] = lanes_[tail_ - col_] + e_;                                             \
    }                                                                                               \
    REDUCE_SUM(lanes_, out);                                                                        \
  } while (0)

// Whether x[0..<count] holds a NaN.
#define HAS_NAN(x, count, out)                                                                      \
  do {                                                                                              \
    int found_ = 0;                                                                                 \
    for (size_t col_ = 0; col_ < (count); col_++) found_ |= (x)[col_] != (x)[col_];                 \
    (out) = found_;                                                                                 \
  } while (0)

#define DEFINE_ATTENTION_KERNELS(SUFFIX, ATTRIBUTE)                                                 \
  ATTRIBUTE static void softmax_update_##SUFFIX(float *restrict scores, size_t rows, size_t columns, \
                                                size_t ld, float *restrict rowMax,                  \
                                                float *restrict rowSum, float *restrict rescale) {  \
    for (size_t r = 0; r < rows; r++) {                                                             \
      float *restrict x = scores + r * ld;                                                          \
      float tileMax;                                                                                \
      ROW_MAX(x, columns, tileMax);                                                                 \
      const float old = rowMax[r];                                                                  \
      const float m = tileMax > old ? tileMax : old;                                                \
      if (m == -INFINITY) {                                                                         \
        int nan;                                                                                    \
        HAS_NAN(x, columns, nan);                                                                   \
        if (nan) rowSum[r] = NAN;                                                                   \
        memset(x, 0, columns * sizeof(float));                                                      \
        rescale[r] = 1.0f;                                                                          \
        continue;                                                                                   \
      }                                                                                             \
      float total;                                                                                  \
      EXP_AND_SUM(x, columns, m, total);                                                            \
      float alpha;                                                                                  \
      NON_POSITIVE_EXP(old - m, alpha);                                                             \
      rowSum[r] = rowSum[r] * alpha + total;                                                        \
      rowMax[r] = m;                                                                                \
      rescale[r] = alpha;                                                                           \
    }                                                                                               \
  }                                                                                                 \
  ATTRIBUTE static void probabilities_##SUFFIX(float *restrict scores, size_t rows, size_t columns, \
                                               size_t ld, const float *restrict logSumExp) {        \
    for (size_t r = 0; r < rows; r++) {                                                             \
      float *restrict x = scores + r * ld;                                                          \
      const float shift = logSumExp[r];                                                             \
      for (size_t c = 0; c < columns; c++) {                                                        \
        float e;                                                                                    \
        NON_POSITIVE_EXP(x[c] - shift, e);                                                          \
        x[c] = e;                                                                                   \
      }                                                                                             \
    }                                                                                               \
  }                                                                                                 \
  ATTRIBUTE static void score_gradient_##SUFFIX(const float *restrict p, float *restrict dp,        \
                                                size_t rows, size_t columns, size_t ld,             \
                                                const float *restrict rowDot) {                     \
    for (size_t r = 0; r < rows; r++) {                                                             \
      const float *restrict pr = p + r * ld;                                                        \
      float *restrict dr = dp + r * ld;                                                             \
      const float d = rowDot[r];                                                                    \
      for (size_t c = 0; c < columns; c++) dr[c] = pr[c] * (dr[c] - d);                             \
    }                                                                                               \
  }                                                                                                 \
  ATTRIBUTE static void softmax_rows_##SUFFIX(float *restrict scores, size_t rows, size_t columns,  \
                                              size_t ld, int causal, long causalShift) {            \
    for (size_t r = 0; r < rows; r++) {                                                             \
      float *restrict x = scores + r * ld;                                                          \
      size_t limit = columns;                                                                       \
      if (causal) {                                                                                 \
        const long last = (long)r + 1 + causalShift;                                                \
        limit = last < 0 ? 0 : ((size_t)last < columns ? (size_t)last : columns);                   \
      }                                                                                             \
      float m;                                                                                      \
      ROW_MAX(x, limit, m);                                                                         \
      if (m == -INFINITY) {                                                                         \
        int nan;                                                                                    \
        HAS_NAN(x, limit, nan);                                                                     \
        const float fill = nan ? NAN : 0.0f;                                                        \
        for (size_t c = 0; c < columns; c++) x[c] = fill;                                           \
        continue;                                                                                   \
      }                                                                                             \
      float total;                                                                                  \
      EXP_AND_SUM(x, limit, m, total);                                                              \
      const float inverse = 1.0f / total;                                                           \
      for (size_t c = 0; c < limit; c++) x[c] = x[c] * inverse;                                     \
      for (size_t c = limit; c < columns; c++) x[c] = 0.0f;                                         \
    }                                                                                               \
  }

DEFINE_ATTENTION_KERNELS(baseline, )
#if defined(__x86_64__) && defined(__clang__)
DEFINE_ATTENTION_KERNELS(avx2, __attribute__((target("avx2"))))
DEFINE_ATTENTION_KERNELS(avx512, __attribute__((target("avx512f"))))
#define DISPATCH(isa, name, ...)                                                                    \
  switch (isa) {                                                                                    \
  case awesomegrad_isa_avx512: name##_avx512(__VA_ARGS__); return;                                  \
  case awesomegrad_isa_avx2: name##_avx2(__VA_ARGS__); return;                                      \
  default: name##_baseline(__VA_ARGS__); return;                                                    \
  }
#else
#define DISPATCH(isa, name, ...) name##_baseline(__VA_ARGS__);
#endif

void awesomegrad_attention_softmax_update_f32(awesomegrad_isa isa, float *scores, size_t rows, size_t columns,
                                              size_t ld, float *rowMax, float *rowSum, float *rescale) {
  DISPATCH(isa, softmax_update, scores, rows, columns, ld, rowMax, rowSum, rescale)
}

void awesomegrad_attention_probabilities_f32(awesomegrad_isa isa, float *scores, size_t rows, size_t columns,
                                             size_t ld, const float *logSumExp) {
  DISPATCH(isa, probabilities, scores, rows, columns, ld, logSumExp)
}

void awesomegrad_attention_score_gradient_f32(awesomegrad_isa isa, const float *p, float *dp, size_t rows,
                                              size_t columns, size_t ld, const float *rowDot) {
  DISPATCH(isa, score_gradient, p, dp, rows, columns, ld, rowDot)
}

void awesomegrad_attention_softmax_rows_f32(awesomegrad_isa isa, float *scores, size_t rows, size_t columns,
                                            size_t ld, int causal, long causalShift) {
  DISPATCH(isa, softmax_rows, scores, rows, columns, ld, causal, causalShift)
}
