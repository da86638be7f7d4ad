#include "kernels/avx2/qadd_affine_s8_avx2.hpp"

#include <immintrin.h>

#include "kernels/qadd_affine_blocks_x86.hpp"

namespace octet::kernels::avx2 {
namespace {

struct Constants {
  __m256 a_coefficient, b_coefficient, offset;
  __m256i tie_bits;
  __m256i low, high;  // as bytes
  bool clamps;
};

Constants constants_of(const QAddAffineForm& form) {
  return {_mm256_set1_ps(form.a_coefficient),
          _mm256_set1_ps(form.b_coefficient),
          _mm256_set1_ps(form.offset),
          _mm256_set1_epi32(4096 - kQAddTieWindow),
          _mm256_set1_epi8(static_cast<char>(form.low)),
          _mm256_set1_epi8(static_cast<char>(form.high)),
          form.low > -128 || form.high < 127};
}

inline __m256 load8(const int8_t* p) {
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
}

// A bit per lane of `x` that is zero.
inline uint32_t zero_lanes(__m256i x) {
  return static_cast<uint32_t>(
      _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(x, _mm256_setzero_si256()))));
}

// 32 elements; returns the lanes to take from the table.
template <bool Broadcast>
__attribute__((always_inline)) inline uint32_t block32(const int8_t* a, const int8_t* b, __m256 b_broadcast_term,
                                                       const Constants& c, int8_t* out) {
  __m256i tie_bits[4], v[4];
#pragma GCC unroll 4
  for (int k = 0; k < 4; ++k) {
    const __m256 b_term = Broadcast ? b_broadcast_term : _mm256_fmadd_ps(load8(b + 8 * k), c.b_coefficient, c.offset);
    const __m256i y = _mm256_cvtps_epi32(_mm256_fmadd_ps(load8(a + 8 * k), c.a_coefficient, b_term));
    tie_bits[k] = _mm256_and_si256(y, c.tie_bits);  // zero: Y mod 4096 in the tie window
    v[k] = _mm256_srai_epi32(y, 12);
  }
  // Whether any of the 32 lanes is near a tie, in one test (a few blocks in a hundred are):
  // the lanes themselves are only sorted out then.
  const __m256i least = _mm256_min_epu32(_mm256_min_epu32(tie_bits[0], tie_bits[1]),
                                         _mm256_min_epu32(tie_bits[2], tie_bits[3]));
  uint32_t near_tie = 0;
  if (__builtin_expect(zero_lanes(least) != 0, 0))
    for (int k = 0; k < 4; ++k) near_tie |= zero_lanes(tie_bits[k]) << (8 * k);
  // Saturating packs (the int8 clamp) interleave 4-value groups per 128-bit lane; the permute
  // restores the order.
  __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(v[0], v[1]), _mm256_packs_epi32(v[2], v[3]));
  bytes = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  if (c.clamps) bytes = _mm256_min_epi8(_mm256_max_epi8(bytes, c.low), c.high);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), bytes);
  return near_tie;
}

template <bool Broadcast>
int64_t run(int64_t count, const int8_t* a, const int8_t* b, const QAddAffineForm& form, const int8_t* table,
            int8_t* output, int threads) {
  const Constants c = constants_of(form);
  return run_qadd_affine_blocks<32, Broadcast>(count, a, b, table, output, threads, [&] {
    const __m256 b_broadcast_term =
        Broadcast ? _mm256_fmadd_ps(_mm256_set1_ps(static_cast<float>(b[0])), c.b_coefficient, c.offset) : c.offset;
    return [&c, a, b, output, b_broadcast_term](int64_t i) -> uint64_t {
      return block32<Broadcast>(a + i, Broadcast ? b : b + i, b_broadcast_term, c, output + i);
    };
  });
}

}  // namespace

int64_t qadd_affine_s8_avx2(int64_t count, const int8_t* a, const int8_t* b, int64_t b_count,
                            const QAddAffineForm& form, const int8_t* table, int8_t* output, int threads) {
  return b_count == 1 ? run<true>(count, a, b, form, table, output, threads)
                      : run<false>(count, a, b, form, table, output, threads);
}

}  // namespace octet::kernels::avx2
