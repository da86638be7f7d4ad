#pragma once
// Four-lane versions of kernels/requantize.hpp for AArch64 Advanced SIMD, bit-exact with the
// scalar primitives for every input (tested at the boundaries in tests/kernels/test_qconv_neon.cpp).
//
// The functions are `static inline` on purpose: this header is included both by baseline
// armv8-a translation units and by the one compiled with -march=armv8.2-a+dotprod. With
// external linkage the linker could keep the armv8.2 copy of an inline function for everyone;
// internal linkage gives each translation unit its own copy built with its own flags.
#include <arm_neon.h>

#include <cstdint>

namespace octet::kernels::neon {

// round(a * b / 2^31), ties away from zero, INT32_MIN * INT32_MIN saturated to INT32_MAX.
// SQRDMULH computes sat((2ab + 2^31) >> 32) = floor((ab + 2^30) / 2^31); the scalar's
// sign-dependent nudge with truncating division gives the same value for every ab (for ab < 0:
// trunc((ab + 1 - 2^30) / 2^31) = ceil(...) = floor((ab + 2^30) / 2^31)), and both saturate only
// the single overflow case. So this is exactly gemmlowp's SaturatingRoundingDoublingHighMul.
static inline int32x4_t saturating_rounding_doubling_high_mul(int32x4_t a, int32x4_t b) {
  return vqrdmulhq_s32(a, b);
}

// x / 2^e rounded to nearest, ties away from zero; `negative_exponent` = -e per lane, e in [0, 31].
// SRSHL by a negative amount rounds ties toward +inf (it adds 2^(e-1) before the arithmetic
// shift, in wide precision). gemmlowp's fix-up subtracts 1 from negative x when e > 0 (the sign
// bit of x & -e), which turns the negative ties into ties away from zero and moves no other
// value across a rounding boundary; the add saturates, and INT32_MIN (exactly divisible) is then
// still correct.
static inline int32x4_t rounding_divide_by_pot(int32x4_t x, int32x4_t negative_exponent) {
  const int32x4_t fixup = vshrq_n_s32(vandq_s32(x, negative_exponent), 31);
  return vrshlq_s32(vqaddq_s32(x, fixup), negative_exponent);
}

// x * 2^left saturated to int32, left in [0, 31] per lane (SQSHL saturates exactly like the
// scalar's clamp of the int64 product).
static inline int32x4_t saturating_left_shift(int32x4_t x, int32x4_t left) { return vqshlq_s32(x, left); }

// Per-lane requantization parameters in the form the vector code wants.
struct LaneRequant {
  int32x4_t multiplier;
  int32x4_t left;            // max(shift, 0)
  int32x4_t negative_right;  // -max(-shift, 0)
};

// multiply_by_quantized_multiplier on four lanes.
static inline int32x4_t multiply_by_quantized_multiplier(int32x4_t x, const LaneRequant& r) {
  return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(saturating_left_shift(x, r.left), r.multiplier),
                                r.negative_right);
}

// The whole output stage on four lanes: requantize, add the output zero point (wrapping, as the
// scalar int32 addition does in practice), clamp to [low, high].
static inline int32x4_t requantize_lanes(int32x4_t acc, const LaneRequant& r, int32x4_t output_zero_point,
                                         int32x4_t low, int32x4_t high) {
  const int32x4_t y = vaddq_s32(multiply_by_quantized_multiplier(acc, r), output_zero_point);
  return vminq_s32(vmaxq_s32(y, low), high);
}

}  // namespace octet::kernels::neon
