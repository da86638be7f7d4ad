#include "kernels/avx512/pool2d_s8_avx512.hpp"

#include <immintrin.h>

#include <algorithm>

namespace octet::kernels::avx512 {
namespace {

// Bytes [0, count) set, count in [0, 64].
inline __mmask64 first_lanes(int64_t count) {
  return count >= 64 ? ~__mmask64{0} : count <= 0 ? __mmask64{0} : (__mmask64{1} << count) - 1;
}

}  // namespace

bool max_pool2d_s8_avx512(const Pool2dShape& shape, const int8_t* input, int8_t* output, int threads) {
  // A local copy: with the reference, every output store could alias the shape, and GCC
  // reloaded its fields (and redid the index arithmetic) for every tap.
  const Pool2dShape s = shape;
  // Windows up to 16 rows tall (every pool in practice; the caller runs the AVX2 kernel else).
  if ((s.stride_w != 1 && s.stride_w != 2) || s.kernel_h > 16) return false;
  // Outputs per step: one 64-byte source vector holds 64 windows' columns at stride 1, 32 at 2.
  const int64_t step = 64 / s.stride_w;
  const int64_t planes = s.batch * s.channels;
  const __m512i lowest = _mm512_set1_epi8(-128);
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1 && planes > 1 && planes * s.in_h * s.in_w >= (1 << 17))
  for (int64_t p = 0; p < planes; ++p) {
    const int8_t* in = input + p * s.in_h * s.in_w;
    int8_t* out = output + p * s.out_h * s.out_w;
    for (int64_t oy = 0; oy < s.out_h; ++oy) {
      // The window's rows inside the input (rows outside are padding: -128, never the maximum).
      const int8_t* rows[16];
      int64_t row_count = 0;
      for (int64_t ky = 0; ky < s.kernel_h; ++ky) {
        const int64_t iy = oy * s.stride_h + ky * s.dilation_h - s.pad_top;
        if (iy >= 0 && iy < s.in_h) rows[row_count++] = in + iy * s.in_w;
      }
      for (int64_t ox = 0; ox < s.out_w; ox += step) {
        __m512i best = lowest;
        for (int64_t kx = 0; kx < s.kernel_w; ++kx) {
          // Source column of lane j: (ox * stride + kx * dilation - pad) + j; lanes outside
          // [0, in_w) stay -128 and are never read (masked loads do not touch them).
          const int64_t column = ox * s.stride_w + kx * s.dilation_w - s.pad_left;
          const __mmask64 inside = first_lanes(s.in_w - column) & ~first_lanes(-column);
          for (int64_t r = 0; r < row_count; ++r)
            best = _mm512_max_epi8(best, _mm512_mask_loadu_epi8(lowest, inside, rows[r] + column));
        }
        const int64_t count = std::min(step, s.out_w - ox);
        if (s.stride_w == 1) {
          _mm512_mask_storeu_epi8(out + oy * s.out_w + ox, first_lanes(count), best);
        } else {  // window j's maximum is in byte 2j: the low byte of each 16-bit word
          const __mmask32 keep = static_cast<__mmask32>(first_lanes(count));
          _mm256_mask_storeu_epi8(out + oy * s.out_w + ox, keep, _mm512_maskz_cvtepi16_epi8(keep, best));
        }
      }
    }
  }
  return true;
}

}  // namespace octet::kernels::avx512
