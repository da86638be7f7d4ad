#pragma once
// Byte interleave of four rows of 64 bytes into 64 quads [x0 y0 z0 w0 x1 y1 ...], shared by the
// AVX-512 activation packers. Only included by translation units compiled with -mavx512bw.
#include <immintrin.h>

namespace octet::kernels::avx512 {
namespace {

// blocks[b] = positions 16b .. 16b + 15 of the four rows, 4 bytes each. Unpacks work within
// 128-bit lanes (q_k holds positions 16L + 4k .. 16L + 4k + 3 of lane L); two rounds of 128-bit
// shuffles then gather each lane's four pieces.
inline void interleave_four_rows(const __m512i (&rows)[4], __m512i (&blocks)[4]) {
  const __m512i ab_lo = _mm512_unpacklo_epi8(rows[0], rows[1]), ab_hi = _mm512_unpackhi_epi8(rows[0], rows[1]);
  const __m512i cd_lo = _mm512_unpacklo_epi8(rows[2], rows[3]), cd_hi = _mm512_unpackhi_epi8(rows[2], rows[3]);
  const __m512i q0 = _mm512_unpacklo_epi16(ab_lo, cd_lo), q1 = _mm512_unpackhi_epi16(ab_lo, cd_lo);
  const __m512i q2 = _mm512_unpacklo_epi16(ab_hi, cd_hi), q3 = _mm512_unpackhi_epi16(ab_hi, cd_hi);
  const __m512i t0 = _mm512_shuffle_i32x4(q0, q1, 0x44), t1 = _mm512_shuffle_i32x4(q2, q3, 0x44);
  const __m512i t2 = _mm512_shuffle_i32x4(q0, q1, 0xEE), t3 = _mm512_shuffle_i32x4(q2, q3, 0xEE);
  blocks[0] = _mm512_shuffle_i32x4(t0, t1, 0x88);
  blocks[1] = _mm512_shuffle_i32x4(t0, t1, 0xDD);
  blocks[2] = _mm512_shuffle_i32x4(t2, t3, 0x88);
  blocks[3] = _mm512_shuffle_i32x4(t2, t3, 0xDD);
}

}  // namespace
}  // namespace octet::kernels::avx512
