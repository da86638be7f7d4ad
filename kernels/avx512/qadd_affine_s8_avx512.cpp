#include "kernels/avx512/qadd_affine_s8_avx512.hpp"

#include <immintrin.h>

#include "kernels/qadd_affine_blocks_x86.hpp"

namespace octet::kernels::avx512 {
namespace {

struct Constants {
  __m512 a_coefficient, b_coefficient, offset;
  __m512i tie_bits;
  __m512i low, high;  // as bytes
  bool clamps;
};

Constants constants_of(const QAddAffineForm& form) {
  return {_mm512_set1_ps(form.a_coefficient),
          _mm512_set1_ps(form.b_coefficient),
          _mm512_set1_ps(form.offset),
          _mm512_set1_epi32(4096 - kQAddTieWindow),
          _mm512_set1_epi8(static_cast<char>(form.low)),
          _mm512_set1_epi8(static_cast<char>(form.high)),
          form.low > -128 || form.high < 127};
}

inline __m512 load16(const int8_t* p) {
  return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}

// 64 elements; returns the lanes to take from the table (a bit per element).
template <bool Broadcast>
__attribute__((always_inline)) inline uint64_t block64(const int8_t* a, const int8_t* b, __m512 b_broadcast_term,
                                                       const Constants& c, int8_t* out) {
  __m512i v[4];
  uint64_t near_tie = 0;
#pragma GCC unroll 4
  for (int k = 0; k < 4; ++k) {
    const __m512 b_term = Broadcast ? b_broadcast_term : _mm512_fmadd_ps(load16(b + 16 * k), c.b_coefficient, c.offset);
    const __m512i y = _mm512_cvtps_epi32(_mm512_fmadd_ps(load16(a + 16 * k), c.a_coefficient, b_term));
    // Y mod 4096 in the tie window: the bits above the window all zero.
    near_tie |= static_cast<uint64_t>(_mm512_testn_epi32_mask(y, c.tie_bits)) << (16 * k);
    v[k] = _mm512_srai_epi32(y, 12);
  }
  // Saturating packs (the int8 clamp) interleave 4-value groups per 128-bit lane; the permute
  // restores the order.
  __m512i bytes = _mm512_packs_epi16(_mm512_packs_epi32(v[0], v[1]), _mm512_packs_epi32(v[2], v[3]));
  bytes = _mm512_permutexvar_epi32(_mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15), bytes);
  if (c.clamps) bytes = _mm512_min_epi8(_mm512_max_epi8(bytes, c.low), c.high);
  _mm512_storeu_si512(out, bytes);
  return near_tie;
}

template <bool Broadcast>
int64_t run(int64_t count, const int8_t* a, const int8_t* b, const QAddAffineForm& form, const int8_t* table,
            int8_t* output, int threads) {
  const Constants c = constants_of(form);
  return run_qadd_affine_blocks<64, Broadcast>(count, a, b, table, output, threads, [&] {
    const __m512 b_broadcast_term =
        Broadcast ? _mm512_fmadd_ps(_mm512_set1_ps(static_cast<float>(b[0])), c.b_coefficient, c.offset) : c.offset;
    return [&c, a, b, output, b_broadcast_term](int64_t i) -> uint64_t {
      return block64<Broadcast>(a + i, Broadcast ? b : b + i, b_broadcast_term, c, output + i);
    };
  });
}

}  // namespace

int64_t qadd_affine_s8_avx512(int64_t count, const int8_t* a, const int8_t* b, int64_t b_count,
                              const QAddAffineForm& form, const int8_t* table, int8_t* output, int threads) {
  return b_count == 1 ? run<true>(count, a, b, form, table, output, threads)
                      : run<false>(count, a, b, form, table, output, threads);
}

}  // namespace octet::kernels::avx512
