#include "kernels/avx512/qadd_affine_s8_avx512.hpp"

#include <immintrin.h>

#include <vector>

namespace octet::kernels::avx512 {
namespace {

// Every float operation rounds to nearest even whatever the caller's MXCSR says (embedded
// rounding), so the exhaustive check at load time holds for every later run.
constexpr int kNearest = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;

struct Constants {
  __m512 a_coefficient, b_coefficient, offset;
  __m512i tie_bits;
  __m512i low, high;  // as bytes
  bool clamps;
};

inline Constants constants_of(const QAddAffineForm& form) {
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

// Y >> 12 for 16 lanes (kernels/qadd_affine_s8.hpp); lanes with Y mod 4096 in the tie window
// set `near_tie`.
inline __m512i sixteen(__m512 a, __m512 b_term, const Constants& c, __mmask16& near_tie) {
  const __m512i y = _mm512_cvt_roundps_epi32(_mm512_fmadd_round_ps(a, c.a_coefficient, b_term, kNearest), kNearest);
  near_tie = _mm512_testn_epi32_mask(y, c.tie_bits);
  return _mm512_srai_epi32(y, 12);
}

// 64 elements; returns the lanes to take from the table.
template <bool Broadcast>
__attribute__((always_inline)) inline uint64_t block64(const int8_t* a, const int8_t* b, __m512 b_broadcast_term, const Constants& c, int8_t* out) {
  __m512i v[4];
  __mmask16 near_tie[4];
#pragma GCC unroll 4
  for (int k = 0; k < 4; ++k) {
    const __m512 b_term =
        Broadcast ? b_broadcast_term
                  : _mm512_fmadd_round_ps(load16(b + 16 * k), c.b_coefficient, c.offset, kNearest);
    v[k] = sixteen(load16(a + 16 * k), b_term, c, near_tie[k]);
  }
  // Saturating packs are the int8 clamp; they interleave 4-value groups per 128-bit lane, the
  // permute puts each vector's 16 values back in order.
  __m512i bytes = _mm512_packs_epi16(_mm512_packs_epi32(v[0], v[1]), _mm512_packs_epi32(v[2], v[3]));
  bytes = _mm512_permutexvar_epi32(_mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15), bytes);
  if (c.clamps) bytes = _mm512_min_epi8(_mm512_max_epi8(bytes, c.low), c.high);
  _mm512_storeu_si512(reinterpret_cast<void*>(out), bytes);
  return _cvtmask64_u64(_mm512_kunpackd(_mm512_kunpackw(near_tie[3], near_tie[2]),
                                        _mm512_kunpackw(near_tie[1], near_tie[0])));
}

inline int8_t from_table(const int8_t* table, int8_t a, int8_t b) {
  return table[(static_cast<int32_t>(a) + 128) * 256 + (static_cast<int32_t>(b) + 128)];
}

// Returns the number of lanes taken from the table.
template <bool Broadcast>
int64_t run(int64_t count, const int8_t* a, const int8_t* b, const QAddAffineForm& form, const int8_t* table,
            int8_t* output, int threads) {
  const Constants c = constants_of(form);
  const __m512 b_broadcast_term =
      Broadcast ? _mm512_fmadd_round_ps(_mm512_set1_ps(static_cast<float>(b[0])), c.b_coefficient, c.offset, kNearest)
                : c.offset;
  const int64_t vector_end = count / 64 * 64;
  int64_t from_table_lanes = 0;
#pragma omp parallel for schedule(static) num_threads(threads) reduction(+ : from_table_lanes) \
    if (threads > 1 && count >= (1 << 16))
  for (int64_t i = 0; i < vector_end; i += 64) {
    uint64_t near_tie = block64<Broadcast>(a + i, Broadcast ? b : b + i, b_broadcast_term, c, output + i);
    while (near_tie != 0) {
      const int64_t j = i + __builtin_ctzll(near_tie);
      output[j] = from_table(table, a[j], b[Broadcast ? 0 : j]);
      near_tie &= near_tie - 1;
      ++from_table_lanes;
    }
  }
  for (int64_t j = vector_end; j < count; ++j) output[j] = from_table(table, a[j], b[Broadcast ? 0 : j]);
  return from_table_lanes;
}

}  // namespace

void qadd_affine_s8_avx512(int64_t count, const int8_t* a, const int8_t* b, int64_t b_count,
                           const QAddAffineForm& form, const int8_t* table, int8_t* output, int threads) {
  if (b_count == 1) {
    run<true>(count, a, b, form, table, output, threads);
  } else {
    run<false>(count, a, b, form, table, output, threads);
  }
}

bool qadd_affine_s8_avx512_matches(const QAddAffineForm& form, const int8_t* table, int max_table_lanes) {
  // Pair i is (a, b) = (i / 256 - 128, i % 256 - 128): the table's own order.
  std::vector<int8_t> a(65536), b(65536), got(65536);
  for (int i = 0; i < 65536; ++i) {
    a[static_cast<size_t>(i)] = static_cast<int8_t>(i / 256 - 128);
    b[static_cast<size_t>(i)] = static_cast<int8_t>(i % 256 - 128);
  }
  if (run<false>(65536, a.data(), b.data(), form, table, got.data(), 1) > max_table_lanes) return false;
  for (int i = 0; i < 65536; ++i)
    if (got[static_cast<size_t>(i)] != table[i]) return false;
  // The broadcast path computes b's term once instead of per lane: the same operation on the
  // same values, checked here on every b anyway.
  std::vector<int8_t> row(256);
  for (int bv = 0; bv < 256; ++bv) {
    const int8_t b_code = static_cast<int8_t>(bv - 128);
    run<true>(256, b.data(), &b_code, form, table, row.data(), 1);  // b's first 256 are every code
    for (int av = 0; av < 256; ++av)
      if (row[static_cast<size_t>(av)] != table[av * 256 + bv]) return false;
  }
  return true;
}

}  // namespace octet::kernels::avx512
