#include "kernels/avx2/dwconv2d_s8_avx2.hpp"

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/avx2/requantize_avx2.hpp"

namespace octet::kernels::avx2 {

bool is_depthwise(const Conv2dShape& s) {
  return s.groups > 1 && s.groups == s.in_channels && s.groups == s.out_channels;
}

void dwconv2d_s8_avx2(const Conv2dShape& s, const int8_t* input, int32_t input_zero_point, const int8_t* weight,
                      const QuantizedOutputStage& stage, int8_t* output, int threads) {
  // Padded plane: rows cover every input row any window touches, columns likewise, plus 8 so
  // the last vector of a row never reads past the end. Padding holds 0 (= zero point - zero point).
  const int64_t span_w = (s.out_w - 1) * s.stride_w + (s.kernel_w - 1) * s.dilation_w + 1;
  const int64_t span_h = (s.out_h - 1) * s.stride_h + (s.kernel_h - 1) * s.dilation_h + 1;
  const int64_t padded_w = span_w + 8 * s.stride_w, padded_h = span_h;
  const int64_t taps = s.kernel_h * s.kernel_w;
  const int64_t planes = s.batch * s.out_channels;
#pragma omp parallel num_threads(threads) if (threads > 1 && planes > 1 && planes * s.out_h * s.out_w * taps >= (1 << 17))
  {
    std::vector<int16_t> plane(static_cast<size_t>(padded_h * padded_w));
    std::vector<int32_t> acc(static_cast<size_t>(s.out_w + 8));
#pragma omp for schedule(static)
    for (int64_t p = 0; p < planes; ++p) {
      const int64_t c = p % s.out_channels;
      const int8_t* in = input + p * s.in_h * s.in_w;
      std::fill(plane.begin(), plane.end(), int16_t{0});
      for (int64_t y = 0; y < padded_h; ++y) {
        const int64_t iy = y - s.pad_top;
        if (iy < 0 || iy >= s.in_h) continue;
        for (int64_t x = 0; x < std::min(padded_w, s.in_w + s.pad_left); ++x) {
          const int64_t ix = x - s.pad_left;
          if (ix >= 0) plane[static_cast<size_t>(y * padded_w + x)] = static_cast<int16_t>(in[iy * s.in_w + ix] - input_zero_point);
        }
      }
      const int8_t* w = weight + c * taps;
      const QuantizedMultiplier& m = stage.multiplier(c);
      const LaneRequant lanes{_mm256_set1_epi32(m.multiplier), _mm256_set1_epi32(m.shift > 0 ? m.shift : 0),
                              _mm256_set1_epi32(m.shift > 0 ? 0 : -m.shift)};
      const __m256i bias = _mm256_set1_epi32(stage.bias ? stage.bias[c] : 0);
      const __m256i zero_point = _mm256_set1_epi32(stage.output_zero_point);
      const __m256i low = _mm256_set1_epi32(stage.low), high = _mm256_set1_epi32(stage.high);
      // Column offsets of 8 consecutive outputs within a plane row (stride may exceed 1).
      const __m256i column_step = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                                                     _mm256_set1_epi32(static_cast<int32_t>(s.stride_w)));
      int8_t* out = output + p * s.out_h * s.out_w;
      for (int64_t oy = 0; oy < s.out_h; ++oy) {
        for (int64_t ox = 0; ox < s.out_w; ox += 8) {
          __m256i sum = bias;
          for (int64_t ky = 0; ky < s.kernel_h; ++ky) {
            const int16_t* row = plane.data() + (oy * s.stride_h + ky * s.dilation_h) * padded_w;
            for (int64_t kx = 0; kx < s.kernel_w; ++kx) {
              const int16_t* first = row + ox * s.stride_w + kx * s.dilation_w;
              __m256i x;
              if (s.stride_w == 1) {
                x = _mm256_cvtepi16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(first)));
              } else {
                // Strided columns: gather 16-bit values through 32-bit loads, keep the low half.
                x = _mm256_i32gather_epi32(reinterpret_cast<const int*>(first), column_step, 2);
                x = _mm256_srai_epi32(_mm256_slli_epi32(x, 16), 16);
              }
              sum = _mm256_add_epi32(sum, _mm256_mullo_epi32(x, _mm256_set1_epi32(w[ky * s.kernel_w + kx])));
            }
          }
          __m256i y = _mm256_add_epi32(multiply_by_quantized_multiplier(sum, lanes), zero_point);
          y = _mm256_min_epi32(_mm256_max_epi32(y, low), high);
          const __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(y), _mm256_extracti128_si256(y, 1));
          alignas(16) int8_t bytes[16];
          _mm_store_si128(reinterpret_cast<__m128i*>(bytes), _mm_packs_epi16(words, words));
          std::memcpy(out + oy * s.out_w + ox, bytes, static_cast<size_t>(std::min<int64_t>(8, s.out_w - ox)));
        }
      }
    }
  }
}

}  // namespace octet::kernels::avx2
