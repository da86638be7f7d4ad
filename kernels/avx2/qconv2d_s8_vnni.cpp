// The AVX-512-VNNI (on 256-bit registers) variant of the packed int8 GEMM tiles: the same panel
// and weight layouts as the AVX2 path, one vpdpbusd instead of vpmaddubsw + vpmaddwd + vpaddd.
#include <immintrin.h>

#include <algorithm>

#include "kernels/avx2/gemm_tile_avx2.hpp"

namespace octet::kernels::avx2 {

#define OCTET_DPBUSD(acc, a, wb) acc = _mm256_dpbusd_epi32(acc, a, wb)

void vnni_tile_4x16(const PackedWeights& w, const RowOutputStage& s, const uint8_t* panel_block, int64_t row_block,
                    int64_t rows_left, int64_t cols_left, int8_t* out, int64_t row_stride) {
  const int64_t quads = w.padded_depth / 4;
  const int8_t* wp = w.data.data() + row_block * quads * 16;
  __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00,
          c31 = c00;
  for (int64_t q = 0; q < quads; ++q) {
    const __m256i a0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(panel_block + q * 64));
    const __m256i a1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(panel_block + q * 64 + 32));
    const int8_t* quad = wp + q * 16;
    __m256i wb = broadcast_quad(quad);
    OCTET_DPBUSD(c00, a0, wb);
    OCTET_DPBUSD(c01, a1, wb);
    wb = broadcast_quad(quad + 4);
    OCTET_DPBUSD(c10, a0, wb);
    OCTET_DPBUSD(c11, a1, wb);
    wb = broadcast_quad(quad + 8);
    OCTET_DPBUSD(c20, a0, wb);
    OCTET_DPBUSD(c21, a1, wb);
    wb = broadcast_quad(quad + 12);
    OCTET_DPBUSD(c30, a0, wb);
    OCTET_DPBUSD(c31, a1, wb);
  }
  const __m256i acc[4][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}};
  const int64_t rows = std::min<int64_t>(rows_left, 4);
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t row = row_block * kRowTile + r;
    int8_t* dst = out + r * row_stride;
    store_row(acc[r][0], s, row, dst, std::min<int64_t>(cols_left, 8));
    if (cols_left > 8) store_row(acc[r][1], s, row, dst + 8, std::min<int64_t>(cols_left - 8, 8));
  }
}

#undef OCTET_DPBUSD

void vnni_gemv_rows(const PackedWeights& w, const uint8_t* broadcast, int64_t row_block, int32_t* acc4) {
  const int64_t quads = w.padded_depth / 4;
  const int8_t* wp = w.data.data() + row_block * quads * 16;
  __m256i acc = _mm256_setzero_si256();
  int64_t q = 0;
  for (; q + 2 <= quads; q += 2)
    acc = _mm256_dpbusd_epi32(acc, _mm256_load_si256(reinterpret_cast<const __m256i*>(broadcast + q * 16)),
                              _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wp + q * 16)));
  __m128i sum = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
  if (q < quads)
    sum = _mm_dpbusd_epi32(sum, _mm_load_si128(reinterpret_cast<const __m128i*>(broadcast + q * 16)),
                           _mm_loadu_si128(reinterpret_cast<const __m128i*>(wp + q * 16)));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(acc4), sum);
}

}  // namespace octet::kernels::avx2
