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

bool channel_quad_phase_pair_avx512(const ChannelQuadPlaneShape& s, const int8_t* const (&channels)[4], int8_t pad,
                                    uint8_t* even_dst, uint8_t* odd_dst) {
  if (s.stride_w != 2 || s.width > 32) return false;
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  const __m512i pad_lanes = _mm512_set1_epi8(pad);
  // Byte j of a row load is input column first + j; position x of the even phase is byte 2x,
  // of the odd phase byte 2x + 1 (2 * 32 bytes: one load covers both).
  const int64_t first = s.column_offset;
  const __mmask64 readable = lanes_between(-first, s.in_w - first);
  const auto phase_lanes = [&](int64_t phase) {  // positions whose column is inside the row
    const int64_t lo = std::max<int64_t>(0, (-(first + phase) + 1) / 2);
    const int64_t hi = s.in_w - first - phase <= 0 ? 0 : (s.in_w - first - phase + 1) / 2;
    return static_cast<uint32_t>(lanes_between(lo, std::min<int64_t>(hi, s.width)));
  };
  const uint32_t valid[2] = {phase_lanes(0), phase_lanes(1)};
  uint8_t* const dst[2] = {even_dst, odd_dst};
  const __mmask16 first_block = static_cast<__mmask16>(s.width >= 16 ? 0xFFFF : (1u << s.width) - 1);
  const __mmask16 second_block = static_cast<__mmask16>(s.width <= 16 ? 0 : (1u << (s.width - 16)) - 1);
  for (int64_t i = 0; i < s.height; i += 2) {
    const bool has_second = i + 1 < s.height;
    const int64_t rows[2] = {i * s.stride_h + s.row_offset, (i + 1) * s.stride_h + s.row_offset};
    const bool inside[2] = {rows[0] >= 0 && rows[0] < s.in_h, has_second && rows[1] >= 0 && rows[1] < s.in_h};
    // Lanes 0..31: plane row i, lanes 32..63: plane row i + 1, for each phase and channel.
    __m512i v[2][4];
    for (int r = 0; r < 4; ++r) {
      if (channels[r] == nullptr) {
        v[0][r] = v[1][r] = _mm512_setzero_si512();
        continue;
      }
      __m256i even[2], odd[2];
      for (int h = 0; h < 2; ++h) {
        const __m512i words = inside[h] ? _mm512_maskz_loadu_epi8(readable, channels[r] + rows[h] * s.in_w + first)
                                        : _mm512_setzero_si512();
        even[h] = _mm512_cvtepi16_epi8(words);
        odd[h] = _mm512_cvtepi16_epi8(_mm512_srli_epi16(words, 8));
      }
      const __m512i both[2] = {_mm512_inserti64x4(_mm512_castsi256_si512(even[0]), even[1], 1),
                               _mm512_inserti64x4(_mm512_castsi256_si512(odd[0]), odd[1], 1)};
      for (int phase = 0; phase < 2; ++phase) {
        const __mmask64 keep = (inside[0] ? __mmask64{valid[phase]} : 0) |
                               (inside[1] ? __mmask64{valid[phase]} << 32 : 0);
        v[phase][r] = _mm512_xor_si512(_mm512_mask_blend_epi8(keep, pad_lanes, both[phase]), flip);
      }
    }
    for (int phase = 0; phase < 2; ++phase) {
      if (dst[phase] == nullptr) continue;
      __m512i blocks[4];
      interleave_four_rows(v[phase], blocks);
      for (int h = 0; h < (has_second ? 2 : 1); ++h) {
        uint8_t* out = dst[phase] + (i + h) * s.width * 4;
        _mm512_mask_storeu_epi32(out, first_block, blocks[2 * h]);
        if (second_block != 0) _mm512_mask_storeu_epi32(out + 64, second_block, blocks[2 * h + 1]);
      }
    }
  }
  return true;
}

}  // namespace octet::kernels::avx512
