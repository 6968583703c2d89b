// Float.nonPositiveExp as a macro for the C kernels (kernels.c, attention.c): pure arithmetic, so
// loops over it vectorise. Private to AwesomegradKernels (not under include/).
#ifndef AWESOMEGRAD_NON_POSITIVE_EXP_H
#define AWESOMEGRAD_NON_POSITIVE_EXP_H

#include <stdint.h>
#include <string.h>

// Float.nonPositiveExp: e^x for x ≤ 0 by Cephes' polynomial and 2ⁿ from the exponent bits.
#define NON_POSITIVE_EXP(x, out)                                                                    \
  do {                                                                                             \
    float a_ = (x) > 0.0f ? 0.0f : (x);                                                            \
    a_ = a_ < -87.0f ? -87.0f : a_;                                                                \
    const float shifter_ = 12582912.0f;                                                            \
    const float t_ = a_ * 1.4426950408889634f + shifter_;                                          \
    const float n_ = t_ - shifter_;                                                                \
    const float r_ = a_ - n_ * 0.693359375f + n_ * 2.1219444e-4f;                                  \
    float p_ = 1.9875691500e-4f;                                                                   \
    p_ = p_ * r_ + 1.3981999507e-3f;                                                               \
    p_ = p_ * r_ + 8.3334519073e-3f;                                                               \
    p_ = p_ * r_ + 4.1665795894e-2f;                                                               \
    p_ = p_ * r_ + 1.6666665459e-1f;                                                               \
    p_ = p_ * r_ + 5.0000001201e-1f;                                                               \
    const float er_ = p_ * r_ * r_ + r_ + 1.0f;                                                    \
    uint32_t bits_;                                                                                \
    memcpy(&bits_, &t_, 4);                                                                        \
    bits_ = (bits_ - 0x4B400000u + 127u) << 23;                                                    \
    float scale_;                                                                                  \
    memcpy(&scale_, &bits_, 4);                                                                    \
    (out) = (x) < -87.0f ? 0.0f : er_ * scale_;                                                    \
  } while (0)

#endif
