#pragma once
// Sixteen-lane versions of kernels/requantize.hpp for the AVX-512 tiles, bit-exact with the scalar
// primitives (and with kernels/avx2/requantize_avx2.hpp, which derives the same formulas on eight
// lanes). Only included by translation units compiled with -mavx512f -mavx512bw.
#include <immintrin.h>

#include <cstdint>

namespace octet::kernels::avx512 {
// Internal linkage, as in requantize_avx2.hpp: never share an out-of-line copy across ISA flags.
namespace {

// Bits 31..62 of (product + 2^30) for the 64-bit products of the even lanes (`even`) and of
// the odd lanes (`odd`), each into its own 32-bit lane. The odd lanes want those bits in the
// high half of their 64-bit word: doubling the sum puts them there in one add (its low half is
// not kept), where a right then left shift took two.
inline __m512i rounded_high_halves(__m512i even, __m512i odd) {
  const __m512i half = _mm512_set1_epi64(int64_t{1} << 30);
  const __m512i odd_sum = _mm512_add_epi64(odd, half);
  return _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(_mm512_add_epi64(even, half), 31),
                                 _mm512_add_epi64(odd_sum, odd_sum));
}

// round(a * m / 2^31), ties rounded up, for a Q31 multiplier m in [2^30, 2^31) broadcast to
// every lane (so its even lanes serve the odd products too): the low 32 bits of
// floor((a * m + 2^30) / 2^31), i.e. bits 31..62 of the 64-bit sum (see the AVX2 file).
inline __m512i rounding_doubling_high_mul(__m512i a, __m512i broadcast_m) {
  return rounded_high_halves(_mm512_mul_epi32(a, broadcast_m), _mm512_mul_epi32(_mm512_srli_epi64(a, 32), broadcast_m));
}

// The same with a different multiplier in every lane (output channels in the lanes): the odd
// products take the odd lanes of m too.
inline __m512i rounding_doubling_high_mul_per_lane(__m512i a, __m512i m) {
  return rounded_high_halves(_mm512_mul_epi32(a, m),
                             _mm512_mul_epi32(_mm512_srli_epi64(a, 32), _mm512_srli_epi64(m, 32)));
}

// The constants of x / 2^e for one exponent e in [0, 31], derived once per output row.
struct PotDivisor {
  __m512i exponent, mask, threshold;  // e, 2^e - 1, (2^e - 1) / 2
};
// `e` may differ per lane (output channels in the lanes).
inline PotDivisor pot_divisor_per_lane(__m512i e) {
  const __m512i one = _mm512_set1_epi32(1);
  const __m512i mask = _mm512_sub_epi32(_mm512_sllv_epi32(one, e), one);
  return {e, mask, _mm512_srai_epi32(mask, 1)};
}
inline PotDivisor pot_divisor(int32_t exponent) { return pot_divisor_per_lane(_mm512_set1_epi32(exponent)); }

// x / 2^e rounded to nearest, ties away from zero: add one where the remainder exceeds half
// (half plus one for negative x).
inline __m512i rounding_divide_by_pot(__m512i x, const PotDivisor& d) {
  const __m512i one = _mm512_set1_epi32(1);
  const __mmask16 negative = _mm512_cmplt_epi32_mask(x, _mm512_setzero_si512());
  const __m512i limit = _mm512_mask_add_epi32(d.threshold, negative, d.threshold, one);
  const __mmask16 round_up = _mm512_cmpgt_epi32_mask(_mm512_and_si512(x, d.mask), limit);
  const __m512i shifted = _mm512_srav_epi32(x, d.exponent);
  return _mm512_mask_add_epi32(shifted, round_up, shifted, one);
}

// x * 2^left saturated to int32 (left in [0, 31] per lane).
inline __m512i saturating_left_shift(__m512i x, __m512i left) {
  __m512i result = _mm512_sllv_epi32(x, left);
  const __m512i high_limit = _mm512_srav_epi32(_mm512_set1_epi32(INT32_MAX), left);
  const __m512i low_limit = _mm512_srav_epi32(_mm512_set1_epi32(INT32_MIN), left);
  result = _mm512_mask_mov_epi32(result, _mm512_cmpgt_epi32_mask(x, high_limit), _mm512_set1_epi32(INT32_MAX));
  return _mm512_mask_mov_epi32(result, _mm512_cmplt_epi32_mask(x, low_limit), _mm512_set1_epi32(INT32_MIN));
}

// requantize_to_s8 (kernels/requantize.hpp) on 16 int32 lanes, up to the narrowing to bytes: its
// parameters derived once per output row (broadcast: the column tiles) or per 16 rows (one per
// lane: the channel-lane tiles), then applied to every block of accumulators.
struct LaneOutputStage {
  __m512i multiplier, left;
  PotDivisor divisor;
  bool shifts_left;  // a multiplier >= 1 somewhere: below 1 (nearly every layer) the shift is skipped
  __m512i zero_point, low, high;
};
inline LaneOutputStage lane_output_stage(__m512i multiplier, __m512i left, const PotDivisor& divisor,
                                         int32_t zero_point, int32_t low, int32_t high) {
  return {multiplier, left, divisor, _mm512_test_epi32_mask(left, left) != 0,
          _mm512_set1_epi32(zero_point), _mm512_set1_epi32(low), _mm512_set1_epi32(high)};
}

// The result is within [low, high] of int8: narrowing it by truncation is exact.
template <bool PerLaneMultiplier>
inline __m512i requantize_lanes(__m512i x, const LaneOutputStage& s) {
  if (s.shifts_left) x = saturating_left_shift(x, s.left);
  x = PerLaneMultiplier ? rounding_doubling_high_mul_per_lane(x, s.multiplier) : rounding_doubling_high_mul(x, s.multiplier);
  x = rounding_divide_by_pot(x, s.divisor);
  return _mm512_min_epi32(_mm512_max_epi32(_mm512_add_epi32(x, s.zero_point), s.low), s.high);
}

}  // namespace
}  // namespace octet::kernels::avx512
