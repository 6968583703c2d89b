// The row loops of the fused attention kernel (Sources/Awesomegrad/CPU/FlashAttention.swift) in Float,
// compiled per instruction set like the other kernels (awesomegrad_kernels.h). Each works on a tile
// of scores: `rows` rows of `columns` values, `ld` apart.
//
// Sums run in 16 fixed lanes (element c adds into lane c mod 16, the lanes then add in a fixed tree),
// and exponentials are Float.nonPositiveExp, so every build gives the same bits.
#ifndef AWESOMEGRAD_ATTENTION_H
#define AWESOMEGRAD_ATTENTION_H

#include <stddef.h>

#include "awesomegrad_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/// One step of the online softmax over a tile of scores s (masked entries already −∞), per row r:
///
///     m' = max(rowMax[r], max_c s[c])                          (NaN scores are never the maximum)
///     s[c] ← e^(s[c] − m'),  rescale[r] = e^(rowMax[r] − m'),  rowSum[r] ← rowSum[r]·rescale[r] + Σ_c s[c]
///     rowMax[r] ← m'
///
/// A row whose m' is −∞ (nothing allowed yet) becomes 0 with rescale 1; a NaN among its scores makes
/// rowSum NaN, so the row's output ends NaN, as the unfused softmax's does.
void awesomegrad_attention_softmax_update_f32(awesomegrad_isa isa, float *scores, size_t rows, size_t columns,
                                              size_t ld, float *rowMax, float *rowSum, float *rescale);

/// s[c] ← e^(s[c] − logSumExp[r]) in place: a tile's probabilities recomputed from the forward's row
/// log-sum-exp (−∞ scores give 0).
void awesomegrad_attention_probabilities_f32(awesomegrad_isa isa, float *scores, size_t rows, size_t columns,
                                             size_t ld, const float *logSumExp);

/// dp[c] ← p[c]·(dp[c] − rowDot[r]): the score gradient ∂S = P ⊙ (∂P − D) with D = rowsum(∂O ⊙ O).
void awesomegrad_attention_score_gradient_f32(awesomegrad_isa isa, const float *p, float *dp, size_t rows,
                                              size_t columns, size_t ld, const float *rowDot);

/// The softmax of each row in place, for the unfused path: m = max, e = e^(s − m), s ← e·(1/Σe) over
/// the row's first limit(r) columns, 0 after them, where limit(r) = min(max(r + 1 + causalShift, 0),
/// columns) when `causal` and `columns` otherwise. Scores are already −∞ where masked; a row whose
/// maximum is −∞ becomes 0, or NaN when a NaN is among its first limit(r) scores.
void awesomegrad_attention_softmax_rows_f32(awesomegrad_isa isa, float *scores, size_t rows, size_t columns,
                                            size_t ld, int causal, long causalShift);

#ifdef __cplusplus
}
#endif

#endif
