#include "kernels/avx512/channel_quad_plane_avx512.hpp"

#include <immintrin.h>

#include <algorithm>

#include "kernels/avx512/quad_interleave_avx512.hpp"

namespace octet::kernels::avx512 {
namespace {

// Bits j of a 64-lane mask with lo <= j < hi.
inline __mmask64 lanes_between(int64_t lo, int64_t hi) {
  lo = std::clamp<int64_t>(lo, 0, 64);
  hi = std::clamp<int64_t>(hi, 0, 64);
  if (hi <= lo) return 0;
  const uint64_t below_hi = hi == 64 ? ~uint64_t{0} : (uint64_t{1} << hi) - 1;
  const uint64_t below_lo = (uint64_t{1} << lo) - 1;
  return below_hi & ~below_lo;
}

// Positions [x, x + 64) of one input row: lane j holds column (x + j) * stride + offset, or
// `pad` where that column is outside [0, in_w). Masked-off lanes never touch memory.
inline __m512i load_positions(const int8_t* row, int64_t in_w, int64_t stride, int64_t offset, int64_t x,
                              __m512i pad) {
  const int64_t first = x * stride + offset;  // input column of lane 0
  if (stride == 1) return _mm512_mask_loadu_epi8(pad, lanes_between(-first, in_w - first), row + first);
  // Stride 2: the 128 input bytes from `first`, then the even ones (low byte of every word).
  const __m512i low_words = _mm512_maskz_loadu_epi8(lanes_between(-first, in_w - first), row + first);
  const __m512i high_words = _mm512_maskz_loadu_epi8(lanes_between(-first - 64, in_w - first - 64), row + first + 64);
  const __m512i even = _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi16_epi8(low_words)),
                                          _mm512_cvtepi16_epi8(high_words), 1);
  // Lane j reads column first + 2j: inside when -first <= 2j < in_w - first.
  const int64_t lo = first >= 0 ? 0 : (-first + 1) / 2, hi = in_w - first <= 0 ? 0 : (in_w - first + 1) / 2;
  return _mm512_mask_blend_epi8(lanes_between(lo, hi), pad, even);
}

}  // namespace

bool channel_quad_plane_avx512(const ChannelQuadPlaneShape& s, const int8_t* const (&channels)[4], int8_t pad,
                               uint8_t* dst) {
  if (s.stride_w != 1 && s.stride_w != 2) return false;
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));  // x + 128 == x ^ 0x80 on bytes
  const __m512i pad_lanes = _mm512_set1_epi8(pad);
  for (int64_t i = 0; i < s.height; ++i) {
    const int64_t iy = i * s.stride_h + s.row_offset;
    const bool inside = iy >= 0 && iy < s.in_h;
    uint8_t* out = dst + i * s.width * 4;
    for (int64_t x = 0; x < s.width; x += 64) {
      __m512i v[4];
      for (int r = 0; r < 4; ++r) {
        if (channels[r] == nullptr) {
          v[r] = _mm512_setzero_si512();
          continue;
        }
        const __m512i values = inside ? load_positions(channels[r] + iy * s.in_w, s.in_w, s.stride_w,
                                                       s.column_offset, x, pad_lanes)
                                      : pad_lanes;
        v[r] = _mm512_xor_si512(values, flip);
      }
      __m512i blocks[4];
      interleave_four_rows(v, blocks);
      const int64_t positions = std::min<int64_t>(64, s.width - x);
      for (int b = 0; b < 4; ++b) {
        const int64_t left = std::min<int64_t>(16, positions - 16 * b);
        if (left <= 0) break;
        void* to = out + (x + 16 * b) * 4;
        if (left == 16)
          _mm512_storeu_si512(to, blocks[b]);
        else
          _mm512_mask_storeu_epi32(to, static_cast<__mmask16>((1u << left) - 1), blocks[b]);
      }
    }
  }
  return true;
}

}  // namespace octet::kernels::avx512
