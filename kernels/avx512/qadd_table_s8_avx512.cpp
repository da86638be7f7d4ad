#include "kernels/avx512/qadd_table_s8_avx512.hpp"

#include <immintrin.h>

#include "kernels/qadd_table_s8.hpp"

namespace octet::kernels::avx512 {
namespace {

// 16 table entries for 16 (a, b) pairs: the word at byte (a + 128) * 256 + (b + 128), whose low
// byte is the entry (the table's slack makes every word readable).
inline __m128i lookup16(const int* words, __m512i a, __m512i b) {
  const __m512i index = _mm512_add_epi32(_mm512_add_epi32(_mm512_slli_epi32(a, 8), b), _mm512_set1_epi32(128 * 256 + 128));
  return _mm512_cvtepi32_epi8(_mm512_i32gather_epi32(index, words, 1));  // truncation keeps the low byte
}

inline __m512i load16(const int8_t* p) {
  return _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

}  // namespace

void qadd_table_s8_avx512(int64_t count, const int8_t* a, const int8_t* b, int64_t b_count, const int8_t* table,
                          int8_t* output, int threads) {
  const int* words = reinterpret_cast<const int*>(table);
  const bool broadcast = b_count == 1;
  const __m512i b_scalar = _mm512_set1_epi32(broadcast ? b[0] : 0);
  const int64_t vector_end = count / 32 * 32;
  // Two independent gathers per step: their loads overlap.
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1 && count >= (1 << 16))
  for (int64_t i = 0; i < vector_end; i += 32) {
    const __m128i first = lookup16(words, load16(a + i), broadcast ? b_scalar : load16(b + i));
    const __m128i second = lookup16(words, load16(a + i + 16), broadcast ? b_scalar : load16(b + i + 16));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(output + i), first);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(output + i + 16), second);
  }
  for (int64_t i = vector_end; i < count; ++i)
    output[i] = qadd_table_entry(table, a[i], b[broadcast ? 0 : i]);
}

}  // namespace octet::kernels::avx512
