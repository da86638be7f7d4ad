#include "kernels/avx2/elementwise_s8_avx2.hpp"

#include <immintrin.h>

#include "kernels/avx2/requantize_avx2.hpp"
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

LaneRequant lanes(QuantizedMultiplier m) {
  return {_mm256_set1_epi32(m.multiplier), _mm256_set1_epi32(m.shift > 0 ? m.shift : 0),
          _mm256_set1_epi32(m.shift > 0 ? 0 : -m.shift)};
}

}  // namespace

void quantize_f32_to_s8_avx2(int64_t count, const float* input, float scale, int32_t zero_point, int8_t* output) {
  const __m256 s = _mm256_set1_ps(scale), z = _mm256_set1_ps(static_cast<float>(zero_point));
  const __m256 low = _mm256_set1_ps(-128.0f), high = _mm256_set1_ps(127.0f);
  int64_t i = 0;
  for (; i + 8 <= count; i += 8) {
    // Same float operations as the scalar path: divide, round half to even, add, clamp.
    __m256 v = _mm256_round_ps(_mm256_div_ps(_mm256_loadu_ps(input + i), s), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    v = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(v, z), low), high);  // maxps(NaN, low) = low
    store8(_mm256_cvtps_epi32(v), output + i);
  }
  for (; i < count; ++i) output[i] = quantize_one_s8(input[i], scale, zero_point);
}

void dequantize_s8_to_f32_avx2(int64_t count, const int8_t* input, float scale, int32_t zero_point, float* output) {
  const __m256 s = _mm256_set1_ps(scale);
  const __m256i z = _mm256_set1_epi32(zero_point);
  int64_t i = 0;
  for (; i + 8 <= count; i += 8)
    _mm256_storeu_ps(output + i, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(load8(input + i), z)), s));
  for (; i < count; ++i) output[i] = static_cast<float>(static_cast<int32_t>(input[i]) - zero_point) * scale;
}

void qadd_s8_avx2(int64_t count, const int8_t* a, const int8_t* b, int64_t b_count, const QAddParams& p,
                  int8_t* output) {
  const LaneRequant ra = lanes(p.a_multiplier), rb = lanes(p.b_multiplier), ry = lanes(p.output_multiplier);
  const __m256i za = _mm256_set1_epi32(p.a_zero_point), zb = _mm256_set1_epi32(p.b_zero_point);
  const __m256i zy = _mm256_set1_epi32(p.output_zero_point);
  const __m256i low = _mm256_set1_epi32(p.low), high = _mm256_set1_epi32(p.high);
  const __m128i shift = _mm_cvtsi32_si128(p.left_shift);
  const __m256i b_scalar = _mm256_set1_epi32(b_count == 1 ? b[0] : 0);
  int64_t i = 0;
  for (; i + 8 <= count; i += 8) {
    const __m256i va = _mm256_sll_epi32(_mm256_sub_epi32(load8(a + i), za), shift);
    const __m256i vb = _mm256_sll_epi32(_mm256_sub_epi32(b_count == 1 ? b_scalar : load8(b + i), zb), shift);
    const __m256i sum = _mm256_add_epi32(multiply_by_quantized_multiplier(va, ra), multiply_by_quantized_multiplier(vb, rb));
    __m256i y = _mm256_add_epi32(multiply_by_quantized_multiplier(sum, ry), zy);
    store8(_mm256_min_epi32(_mm256_max_epi32(y, low), high), output + i);
  }
  for (; i < count; ++i) output[i] = qadd_one_s8(a[i], b[b_count == 1 ? 0 : i], p);
}

}  // namespace octet::kernels::avx2
