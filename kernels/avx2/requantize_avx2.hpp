#pragma once
// Eight-lane versions of kernels/requantize.hpp, bit-exact with the scalar primitives for every
// input (tested exhaustively at the boundaries in tests/kernels). Only included by translation
// units compiled with -mavx2.
#include <immintrin.h>

#include <cstdint>

namespace octet::kernels::avx2 {
// Internal linkage: these are compiled into translation units with different ISA flags (AVX2,
// AVX-512-VNNI); one shared out-of-line copy could carry the wrong instructions.
namespace {

// round(a * m / 2^31), ties rounded up, for m > 0 (a Q31 multiplier in [2^30, 2^31), so the
// scalar's single saturation case INT32_MIN * INT32_MIN cannot occur). The scalar rounding
// (v + nudge) / 2^31 with a sign-dependent nudge equals floor((v + 2^30) / 2^31) for every v, and
// the low 32 bits of that floor are bits 31..62 of v + 2^30: a logical 64-bit shift gives them.
inline __m256i rounding_doubling_high_mul(__m256i a, __m256i m) {
  const __m256i half = _mm256_set1_epi64x(int64_t{1} << 30);
  const __m256i even = _mm256_srli_epi64(_mm256_add_epi64(_mm256_mul_epi32(a, m), half), 31);
  const __m256i odd = _mm256_srli_epi64(
      _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(a, 32), _mm256_srli_epi64(m, 32)), half), 31);
  return _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
}

// x / 2^e rounded to nearest, ties away from zero, e in [0, 31] per lane.
inline __m256i rounding_divide_by_pot(__m256i x, __m256i exponent) {
  const __m256i one = _mm256_set1_epi32(1);
  const __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, exponent), one);
  const __m256i remainder = _mm256_and_si256(x, mask);
  const __m256i negative = _mm256_cmpgt_epi32(_mm256_setzero_si256(), x);  // -1 where x < 0
  const __m256i threshold = _mm256_sub_epi32(_mm256_srai_epi32(mask, 1), negative);
  const __m256i round_up = _mm256_cmpgt_epi32(remainder, threshold);     // -1 where rounding up
  return _mm256_sub_epi32(_mm256_srav_epi32(x, exponent), round_up);
}

// x * 2^left saturated to int32 (left in [0, 31] per lane), as the scalar path does.
inline __m256i saturating_left_shift(__m256i x, __m256i left) {
  const __m256i shifted = _mm256_sllv_epi32(x, left);
  const __m256i high_limit = _mm256_srav_epi32(_mm256_set1_epi32(INT32_MAX), left);
  const __m256i low_limit = _mm256_srav_epi32(_mm256_set1_epi32(INT32_MIN), left);
  __m256i result = _mm256_blendv_epi8(shifted, _mm256_set1_epi32(INT32_MAX), _mm256_cmpgt_epi32(x, high_limit));
  return _mm256_blendv_epi8(result, _mm256_set1_epi32(INT32_MIN), _mm256_cmpgt_epi32(low_limit, x));
}

// Per-lane requantization parameters in the form the vector code wants.
struct LaneRequant {
  __m256i multiplier;
  __m256i left;   // max(shift, 0)
  __m256i right;  // max(-shift, 0)
};

// multiply_by_quantized_multiplier on eight lanes.
inline __m256i multiply_by_quantized_multiplier(__m256i x, const LaneRequant& r) {
  return rounding_divide_by_pot(rounding_doubling_high_mul(saturating_left_shift(x, r.left), r.multiplier), r.right);
}

}  // namespace
}  // namespace octet::kernels::avx2
