#pragma once
// Sixteen-lane versions of kernels/requantize.hpp for the AVX-512 tiles, bit-exact with the scalar
// primitives (and with kernels/avx2/requantize_avx2.hpp, which derives the same formulas on eight
// lanes). Only included by translation units compiled with -mavx512f -mavx512bw.
#include <immintrin.h>

#include <cstdint>

namespace octet::kernels::avx512 {
// Internal linkage, as in requantize_avx2.hpp: never share an out-of-line copy across ISA flags.
namespace {

// x * 2^left saturated to int32 (left in [0, 31] per lane).
inline __m512i saturating_left_shift(__m512i x, __m512i left) {
  __m512i result = _mm512_sllv_epi32(x, left);
  const __m512i high_limit = _mm512_srav_epi32(_mm512_set1_epi32(INT32_MAX), left);
  const __m512i low_limit = _mm512_srav_epi32(_mm512_set1_epi32(INT32_MIN), left);
  result = _mm512_mask_mov_epi32(result, _mm512_cmpgt_epi32_mask(x, high_limit), _mm512_set1_epi32(INT32_MAX));
  return _mm512_mask_mov_epi32(result, _mm512_cmplt_epi32_mask(x, low_limit), _mm512_set1_epi32(INT32_MIN));
}

// requantize_to_s8 (kernels/requantize.hpp) on 16 int32 lanes, up to the narrowing to bytes,
// through its one-step form (OneStepRounding): per lane, the 64-bit product with the multiplier,
// an offset, a drop for negative products, one arithmetic shift. The even lanes' products and
// the odd lanes' are formed apart (vpmuldq reads the low half of each 64-bit word), so every
// 64-bit constant comes twice: for the even lanes and for the odd ones. Derived once per output
// row (broadcast: the column tiles) or per 16 rows (one row per lane: the channel-lane tiles).
struct LaneOutputStage {
  __m512i multiplier_even, multiplier_odd;  // in the low half of each 64-bit word
  __m512i left;
  bool shifts_left;  // a multiplier >= 1 somewhere: below 1 (nearly every layer) the shift is skipped
  __m512i offset_even, offset_odd, drop_even, drop_odd, shift_even, shift_odd;
  bool drops;  // a nonzero drop somewhere: zero where a fused ReLU's floor clamps negatives anyway
  __m512i zero_point_after;
  bool adds_zero_point;  // the zero point is not folded into the offset in some lane
  __m512i low, high;
};

// One row's parameters in every lane.
inline LaneOutputStage broadcast_output_stage(int32_t multiplier, int32_t left, int64_t offset, int64_t drop,
                                              int64_t shift, int32_t zero_point_after, int32_t low, int32_t high) {
  const __m512i m = _mm512_set1_epi32(multiplier), off = _mm512_set1_epi64(offset), dr = _mm512_set1_epi64(drop),
                sh = _mm512_set1_epi64(shift);
  return {m, m, _mm512_set1_epi32(left), left != 0, off, off, dr, dr, sh, sh, drop != 0,
          _mm512_set1_epi32(zero_point_after), zero_point_after != 0, _mm512_set1_epi32(low), _mm512_set1_epi32(high)};
}

// Rows row0 .. row0 + 15 in lanes 0 .. 15 (the arrays hold at least row0 + 16 entries).
inline LaneOutputStage per_lane_output_stage(const int32_t* multiplier, const int32_t* left, const int64_t* offset,
                                             const int64_t* drop, const int64_t* shift, const int32_t* zero_point_after,
                                             int32_t low, int32_t high) {
  const auto load32 = [](const int32_t* p) { return _mm512_loadu_si512(reinterpret_cast<const void*>(p)); };
  const __m512i even_index = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
  const __m512i odd_index = _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15);
  // 16 64-bit values as two registers, split into the even rows' and the odd rows'.
  const auto split = [&](const int64_t* p, __m512i& even, __m512i& odd) {
    const __m512i first = _mm512_loadu_si512(reinterpret_cast<const void*>(p));
    const __m512i second = _mm512_loadu_si512(reinterpret_cast<const void*>(p + 8));
    even = _mm512_permutex2var_epi64(first, even_index, second);
    odd = _mm512_permutex2var_epi64(first, odd_index, second);
  };
  LaneOutputStage s;
  s.multiplier_even = load32(multiplier);
  s.multiplier_odd = _mm512_srli_epi64(s.multiplier_even, 32);
  s.left = load32(left);
  s.shifts_left = _mm512_test_epi32_mask(s.left, s.left) != 0;
  split(offset, s.offset_even, s.offset_odd);
  split(drop, s.drop_even, s.drop_odd);
  s.drops = _mm512_test_epi64_mask(s.drop_even, s.drop_even) != 0 || _mm512_test_epi64_mask(s.drop_odd, s.drop_odd) != 0;
  split(shift, s.shift_even, s.shift_odd);
  s.zero_point_after = load32(zero_point_after);
  s.adds_zero_point = _mm512_test_epi32_mask(s.zero_point_after, s.zero_point_after) != 0;
  s.low = _mm512_set1_epi32(low);
  s.high = _mm512_set1_epi32(high);
  return s;
}

// (product + offset - (product < 0 ? drop : 0)) >> shift on 8 64-bit products.
inline __m512i round_products(__m512i product, __m512i offset, __m512i drop, __m512i shift, bool drops) {
  const __m512i sum = _mm512_add_epi64(product, offset);
  if (!drops) return _mm512_srav_epi64(sum, shift);
  const __mmask8 negative = _mm512_cmplt_epi64_mask(product, _mm512_setzero_si512());
  return _mm512_srav_epi64(_mm512_mask_sub_epi64(sum, negative, sum, drop), shift);
}

// requantize_lanes below without its clamp: for callers that narrow with saturation and clamp
// the bytes (pack_rows_of_three).
inline __m512i requantize_lanes_unclamped(__m512i x, const LaneOutputStage& s) {
  if (s.shifts_left) x = saturating_left_shift(x, s.left);
  const __m512i even =
      round_products(_mm512_mul_epi32(x, s.multiplier_even), s.offset_even, s.drop_even, s.shift_even, s.drops);
  const __m512i odd = round_products(_mm512_mul_epi32(_mm512_srli_epi64(x, 32), s.multiplier_odd), s.offset_odd,
                                     s.drop_odd, s.shift_odd, s.drops);
  const __m512i interleave = _mm512_setr_epi32(0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30);
  const __m512i y = _mm512_permutex2var_epi32(even, interleave, odd);
  return s.adds_zero_point ? _mm512_add_epi32(y, s.zero_point_after) : y;
}

// Three (or two: c = a) rows of 16 int32 values as 48 (32) bytes in order, saturated to
// [-128, 127]: two saturating packs and one permute for all of them, where narrowing each on
// its own took two instructions, and the saturation is the int8 clamp. The packs interleave
// 4-value groups per 128-bit lane ([a b c c] in lane L); the permute puts each row's four
// groups back together.
inline __m512i pack_rows_of_three(__m512i a, __m512i b, __m512i c) {
  const __m512i bytes = _mm512_packs_epi16(_mm512_packs_epi32(a, b), _mm512_packs_epi32(c, c));
  return _mm512_permutexvar_epi32(_mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15), bytes);
}

// The result is within [low, high] of int8: narrowing it by truncation is exact.
inline __m512i requantize_lanes(__m512i x, const LaneOutputStage& s) {
  return _mm512_min_epi32(_mm512_max_epi32(requantize_lanes_unclamped(x, s), s.low), s.high);
}

}  // namespace
}  // namespace octet::kernels::avx512
