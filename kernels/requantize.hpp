#pragma once
// Integer-only requantization (TFLite / gemmlowp compatible): the real multiplier
// M = scale_in * scale_w / scale_out is carried as a Q31 integer M0 in [2^30, 2^31) and a power
// of two, so kernels never touch floating point between Quantize and Dequantize. See
// docs/quantization.md for the derivation. Tested bit-exact against gemmlowp's fixedpoint.h.
#include <cstdint>
#include <limits>

namespace octet::kernels {

// round(a * b / 2^31) with ties rounded up (toward +infinity: -0.5 -> 0, -2.5 -> -2), saturating
// the single overflow case
// (INT32_MIN * INT32_MIN). gemmlowp's SaturatingRoundingDoublingHighMul.
inline int32_t saturating_rounding_doubling_high_mul(int32_t a, int32_t b) {
  if (a == b && a == std::numeric_limits<int32_t>::min()) return std::numeric_limits<int32_t>::max();
  const int64_t product = static_cast<int64_t>(a) * static_cast<int64_t>(b);
  const int64_t nudge = product >= 0 ? (int64_t{1} << 30) : (1 - (int64_t{1} << 30));
  // Division (not shift) truncates toward zero; with the sign-dependent nudge that rounds
  // every tie up (a negative exact half lands on the larger value), exactly as gemmlowp does.
  return static_cast<int32_t>((product + nudge) / (int64_t{1} << 31));
}

// x / 2^exponent rounded to nearest, ties away from zero; exponent in [0, 31].
// gemmlowp's RoundingDivideByPOT.
inline int32_t rounding_divide_by_pot(int32_t x, int exponent) {
  const int32_t mask = static_cast<int32_t>((int64_t{1} << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

// A real multiplier as multiplier * 2^shift / 2^31 (shift > 0: left, < 0: right).
struct QuantizedMultiplier {
  int32_t multiplier = 0;
  int32_t shift = 0;
};

// x * M with M = multiplier * 2^(shift - 31), rounded like TFLite's
// MultiplyByQuantizedMultiplier. The left shift saturates to int32 instead of overflowing
// (TFLite leaves that case undefined); results that fit are identical.
inline int32_t multiply_by_quantized_multiplier(int32_t x, QuantizedMultiplier m) {
  const int left = m.shift > 0 ? m.shift : 0;
  const int right = m.shift > 0 ? 0 : -m.shift;
  int64_t shifted = static_cast<int64_t>(x) * (int64_t{1} << left);
  if (shifted > std::numeric_limits<int32_t>::max()) shifted = std::numeric_limits<int32_t>::max();
  if (shifted < std::numeric_limits<int32_t>::min()) shifted = std::numeric_limits<int32_t>::min();
  return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(static_cast<int32_t>(shifted), m.multiplier),
                                right);
}

// The rounding of multiply_by_quantized_multiplier (after its left shift) and the output zero
// point in one step on the 64-bit product, for SIMD epilogues: the same bits as the two
// roundings, in fewer instructions (no remainder, mask or threshold per lane). Why it is exact:
// with P = x * m, the first rounding is r1 = floor((P + 2^30) / 2^31) and the second
// (r1 + c) >> e with c = 2^(e-1) for r1 >= 0 and 2^(e-1) - 1 for r1 < 0 (c = 0 when e = 0);
// adding an integer inside a floor commutes with it, so both are floor((P + 2^30 + c 2^31
// [+ zp 2^(31+e)]) / 2^(31+e)). P < 0 stands in for r1 < 0: they differ only when r1 == 0,
// where both values of c give 0. The zero point is folded in where the sum cannot overflow
// int64 (e <= 22) and where adding it cannot overflow int32 either way (e >= 1).
// m in [0, 2^31) (every quantized multiplier); tested against the two steps in
// tests/quant/test_fixed_point.cpp.
struct OneStepRounding {
  int64_t offset = 0;         // added to the product
  int64_t negative_drop = 0;  // then taken off a negative product
  int32_t shift = 31;         // then the arithmetic right shift
  int32_t zero_point_after = 0;  // the zero point when it is not in `offset`
};

inline OneStepRounding one_step_rounding(QuantizedMultiplier m, int32_t output_zero_point) {
  const int right = m.shift > 0 ? 0 : -m.shift;
  OneStepRounding r;
  const int64_t c_positive = right == 0 ? 0 : int64_t{1} << (right - 1);
  r.offset = (int64_t{1} << 30) + c_positive * (int64_t{1} << 31);
  r.negative_drop = right == 0 ? 0 : int64_t{1} << 31;
  r.shift = 31 + right;
  if (right >= 1 && right <= 22) {
    r.offset += static_cast<int64_t>(output_zero_point) * (int64_t{1} << r.shift);
  } else {
    r.zero_point_after = output_zero_point;
  }
  return r;
}

// multiply_by_quantized_multiplier(x, m) + output zero point for x already left-shifted
// (saturated), through the one-step form: what the SIMD epilogues compute per lane.
inline int32_t one_step_requantize(int32_t shifted_x, int32_t multiplier, const OneStepRounding& r) {
  const int64_t product = static_cast<int64_t>(shifted_x) * multiplier;
  const int64_t value = product + r.offset - (product < 0 ? r.negative_drop : 0);
  return static_cast<int32_t>(value >> r.shift) + r.zero_point_after;
}

// The full output stage of a quantized Conv/Gemm/Add: requantize, add the output zero point,
// clamp to the fused activation's range [low, high] (within [-128, 127]).
inline int8_t requantize_to_s8(int32_t accumulator, QuantizedMultiplier m, int32_t output_zero_point,
                               int32_t low, int32_t high) {
  int32_t value = multiply_by_quantized_multiplier(accumulator, m) + output_zero_point;
  value = value < low ? low : value;
  value = value > high ? high : value;
  return static_cast<int8_t>(value);
}

}  // namespace octet::kernels
