#include "kernels/avx512/panel_interleave_avx512.hpp"

#include <immintrin.h>

#include <algorithm>

#include "kernels/avx512/quad_interleave_avx512.hpp"

namespace octet::kernels::avx512 {

void interleave_rows_to_panel_avx512(const int8_t* const* rows, int64_t depth, int64_t cols, int64_t padded_depth,
                                     uint8_t* panel, int threads) {
  const int64_t quads = padded_depth / 4, blocks = (cols + 15) / 16, stretches = (cols + 63) / 64;
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));  // x + 128 == x ^ 0x80 on bytes
  const __m512i below = _mm512_set1_epi8(-128);                     // u = 0 after the flip
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1 && quads * cols >= (1 << 16))
  for (int64_t stretch = 0; stretch < stretches; ++stretch) {
    const int64_t first = stretch * 64, count = std::min<int64_t>(64, cols - first);
    const __mmask64 live = count == 64 ? ~__mmask64{0} : (__mmask64{1} << count) - 1;
    const int64_t stretch_blocks = std::min<int64_t>(4, blocks - stretch * 4);
    for (int64_t q = 0; q < quads; ++q) {
      __m512i v[4];
      for (int r = 0; r < 4; ++r) {
        const int64_t k = 4 * q + r;
        v[r] = k < depth ? _mm512_xor_si512(_mm512_mask_loadu_epi8(below, live, rows[k] + first), flip)
                         : _mm512_setzero_si512();
      }
      __m512i out[4];
      interleave_four_rows(v, out);
      for (int64_t b = 0; b < stretch_blocks; ++b)
        _mm512_storeu_si512(reinterpret_cast<void*>(panel + ((stretch * 4 + b) * quads + q) * 64), out[b]);
    }
  }
}

}  // namespace octet::kernels::avx512
