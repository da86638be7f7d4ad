#include "kernels/avx2/elementwise_s8_avx2.hpp"

#include <immintrin.h>

#include "kernels/qadd_table_s8.hpp"
#include "kernels/ref/quantize_ref.hpp"

namespace octet::kernels::avx2 {
namespace {

// 8 int32 lanes in [-128, 127] to 8 bytes.
inline void store8(__m256i v, int8_t* out) {
  const __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  _mm_storel_epi64(reinterpret_cast<__m128i*>(out), _mm_packs_epi16(words, words));
}

inline __m256i load8(const int8_t* in) {
  return _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(in)));
}

}  // namespace

void quantize_f32_to_s8_avx2(int64_t count, const float* input, float scale, int32_t zero_point, int8_t* output,
                             int threads) {
  const __m256 s = _mm256_set1_ps(scale), z = _mm256_set1_ps(static_cast<float>(zero_point));
  const __m256 low = _mm256_set1_ps(-128.0f), high = _mm256_set1_ps(127.0f);
  const int64_t vector_end = count / 8 * 8;
  // Bound by the divide (the spec divides; a reciprocal would round differently): worth a team
  // for a network's input (150528 values for 3 x 224 x 224).
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1 && count >= (1 << 16))
  for (int64_t i = 0; i < vector_end; i += 8) {
    // Same float operations as the scalar path: divide, round half to even, add, clamp.
    __m256 v = _mm256_round_ps(_mm256_div_ps(_mm256_loadu_ps(input + i), s), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    v = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(v, z), low), high);  // maxps(NaN, low) = low
    store8(_mm256_cvtps_epi32(v), output + i);
  }
  for (int64_t i = vector_end; i < count; ++i) output[i] = quantize_one_s8(input[i], scale, zero_point);
}

void dequantize_s8_to_f32_avx2(int64_t count, const int8_t* input, float scale, int32_t zero_point, float* output,
                               int threads) {
  const __m256 s = _mm256_set1_ps(scale);
  const __m256i z = _mm256_set1_epi32(zero_point);
  const int64_t vector_end = count / 8 * 8;
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1 && count >= (1 << 16))
  for (int64_t i = 0; i < vector_end; i += 8)
    _mm256_storeu_ps(output + i, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(load8(input + i), z)), s));
  for (int64_t i = vector_end; i < count; ++i)
    output[i] = static_cast<float>(static_cast<int32_t>(input[i]) - zero_point) * scale;
}

void qadd_table_s8_avx2(int64_t count, const int8_t* a, const int8_t* b, int64_t b_count, const int8_t* table,
                        int8_t* output, int threads) {
  const int* words = reinterpret_cast<const int*>(table);
  const __m256i offset = _mm256_set1_epi32(128);
  const __m256i b_scalar = _mm256_set1_epi32(b_count == 1 ? b[0] : 0);
  const int64_t vector_end = count / 8 * 8;
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1 && count >= (1 << 16))
  for (int64_t i = 0; i < vector_end; i += 8) {
    const __m256i row = _mm256_slli_epi32(_mm256_add_epi32(load8(a + i), offset), 8);
    const __m256i col = _mm256_add_epi32(b_count == 1 ? b_scalar : load8(b + i), offset);
    const __m256i words32 = _mm256_i32gather_epi32(words, _mm256_add_epi32(row, col), 1);
    // The entry is the word's low byte: sign-extend it, then pack to bytes (exact in [-128, 127]).
    store8(_mm256_srai_epi32(_mm256_slli_epi32(words32, 24), 24), output + i);
  }
  for (int64_t i = vector_end; i < count; ++i)
    output[i] = qadd_table_entry(table, a[i], b[i * (b_count != 1)]);
}

}  // namespace octet::kernels::avx2
