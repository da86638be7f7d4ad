#pragma once
// The NPU's requantization and accumulator arithmetic. INTEGER-ONLY BY CONSTRUCTION: this header
// and every backends/npu_emu/*kernel* file use int8/int32/int64 only; the kernel translation
// units are compiled with -mgeneral-regs-only, so the compiler refuses any float or double
// operation in them (and a ctest scans the sources for float types; see
// backends/npu_emu/CMakeLists.txt). Real-valued parameters (scales) become integers on the host,
// when a kernel is prepared.
#include <cstdint>

#include "kernels/requantize.hpp"

namespace octet::npu {

// How x * M (M = M0 * 2^(shift - 31)) is rounded to an integer.
//   gemmlowp: SaturatingRoundingDoublingHighMul then RoundingDivideByPOT, two roundings, ties
//             away from zero: exactly kernels/requantize.hpp (TFLite, the ref backend).
//   half_up:  one rounding, ties toward +infinity, as many NPUs do it:
//             (x' * M0 + 2^(30 + right)) >> (31 + right) in int64, x' = x << left (saturated).
// gemmlowp's first rounding (the high multiply) also takes ties toward +infinity; its second
// (the division by 2^right) takes them away from zero. So the two modes differ only where that
// second rounding meets an exact half, and then by 1: an exact tie of x * M below zero, or a
// near tie (within 2^-(right+1) of a half) that the first rounding turned into an exact one.
// Without a right shift they agree everywhere.
enum class Rounding { gemmlowp, half_up };

inline int32_t saturate_to_int32(int64_t value) {
  if (value > INT32_MAX) return INT32_MAX;
  if (value < INT32_MIN) return INT32_MIN;
  return static_cast<int32_t>(value);
}

inline int32_t multiply_half_up(int32_t x, kernels::QuantizedMultiplier m) {
  const int left = m.shift > 0 ? m.shift : 0;
  const int right = m.shift > 0 ? 0 : -m.shift;
  const int64_t shifted = saturate_to_int32(static_cast<int64_t>(x) * (int64_t{1} << left));
  // |shifted * M0| < 2^62 and the nudge is at most 2^61: the sum fits int64. The right shift
  // of a negative number floors (arithmetic shift), which makes the rounding "half up".
  const int64_t product = shifted * static_cast<int64_t>(m.multiplier);
  const int total = 31 + right;
  return saturate_to_int32((product + (int64_t{1} << (total - 1))) >> total);
}

inline int32_t npu_multiply(int32_t x, kernels::QuantizedMultiplier m, Rounding rounding) {
  return rounding == Rounding::gemmlowp ? kernels::multiply_by_quantized_multiplier(x, m)
                                        : multiply_half_up(x, m);
}

// The Conv/Gemm accumulator: `bits` wide (16..32), every addition saturating to its range.
struct AccumulatorRange {
  int64_t low = INT32_MIN;
  int64_t high = INT32_MAX;
  static AccumulatorRange of_bits(int32_t bits) {
    return {-(int64_t{1} << (bits - 1)), (int64_t{1} << (bits - 1)) - 1};
  }
  int32_t add(int32_t acc, int32_t value) const {
    const int64_t sum = static_cast<int64_t>(acc) + value;
    return static_cast<int32_t>(sum < low ? low : (sum > high ? high : sum));
  }
};

}  // namespace octet::npu
