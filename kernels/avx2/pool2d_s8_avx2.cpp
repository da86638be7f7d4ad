#include "kernels/avx2/pool2d_s8_avx2.hpp"

#include <immintrin.h>

#include <algorithm>
#include <vector>

#include "kernels/ref/qpool2d_s8_ref.hpp"

namespace octet::kernels::avx2 {

void max_pool2d_s8_avx2(const Pool2dShape& s, const int8_t* input, int8_t* output, int threads) {
  const int64_t planes = s.batch * s.channels;
  const int64_t stride = s.stride_w;
  // Phase p holds padded columns p, p + stride, ...; long enough for every tap of every output
  // plus one vector of slack.
  const int64_t phase_len = s.out_w + ((s.kernel_w - 1) * s.dilation_w) / stride + 1 + 32;
  const int64_t out_w_padded = (s.out_w + 31) / 32 * 32;
#pragma omp parallel num_threads(threads) if (threads > 1 && planes > 1 && planes * s.in_h * s.in_w >= (1 << 17))
  {
    std::vector<int8_t> phases(static_cast<size_t>(stride * phase_len));
    std::vector<int8_t> rows(static_cast<size_t>(s.in_h * out_w_padded));  // horizontal maxima per input row
#pragma omp for schedule(static)
    for (int64_t p = 0; p < planes; ++p) {
      const int8_t* in = input + p * s.in_h * s.in_w;
      for (int64_t iy = 0; iy < s.in_h; ++iy) {
        const int8_t* row = in + iy * s.in_w;
        for (int64_t phase = 0; phase < stride; ++phase) {
          int8_t* dst = phases.data() + phase * phase_len;
          // Column j of this phase is input column j * stride + phase - pad_left.
          for (int64_t j = 0, ix = phase - s.pad_left; j < phase_len; ++j, ix += stride)
            dst[j] = ix >= 0 && ix < s.in_w ? row[ix] : int8_t{-128};
        }
        int8_t* hmax = rows.data() + iy * out_w_padded;
        for (int64_t ox = 0; ox < s.out_w; ox += 32) {
          __m256i best = _mm256_set1_epi8(-128);
          for (int64_t kx = 0; kx < s.kernel_w; ++kx) {
            const int64_t tap = kx * s.dilation_w;
            const int8_t* src = phases.data() + (tap % stride) * phase_len + tap / stride + ox;
            best = _mm256_max_epi8(best, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src)));
          }
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(hmax + ox), best);
        }
      }
      int8_t* out = output + p * s.out_h * s.out_w;
      for (int64_t oy = 0; oy < s.out_h; ++oy) {
        for (int64_t ox = 0; ox < s.out_w; ox += 32) {
          __m256i best = _mm256_set1_epi8(-128);
          for (int64_t ky = 0; ky < s.kernel_h; ++ky) {
            const int64_t iy = oy * s.stride_h + ky * s.dilation_h - s.pad_top;
            if (iy < 0 || iy >= s.in_h) continue;
            best = _mm256_max_epi8(best, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rows.data() + iy * out_w_padded + ox)));
          }
          alignas(32) int8_t bytes[32];
          _mm256_store_si256(reinterpret_cast<__m256i*>(bytes), best);
          std::copy(bytes, bytes + std::min<int64_t>(32, s.out_w - ox), out + oy * s.out_w + ox);
        }
      }
    }
  }
}

void global_average_pool_s8_avx2(int64_t planes, int64_t plane_size, const int8_t* input, int8_t* output) {
  const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));
  for (int64_t p = 0; p < planes; ++p) {
    const int8_t* in = input + p * plane_size;
    __m256i sums = _mm256_setzero_si256();
    int64_t i = 0;
    for (; i + 32 <= plane_size; i += 32) {
      const __m256i u = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i)), flip);
      sums = _mm256_add_epi64(sums, _mm256_sad_epu8(u, _mm256_setzero_si256()));
    }
    alignas(32) int64_t parts[4];
    _mm256_store_si256(reinterpret_cast<__m256i*>(parts), sums);
    int64_t sum = parts[0] + parts[1] + parts[2] + parts[3] - 128 * i;  // back from u to x
    for (; i < plane_size; ++i) sum += in[i];
    output[p] = static_cast<int8_t>(rounded_divide(static_cast<int32_t>(sum), static_cast<int32_t>(plane_size)));
  }
}

}  // namespace octet::kernels::avx2
