// The SDOT tile loop of the NEON int8 GEMM (layouts in qconv2d_s8_neon.hpp). This file alone is
// compiled with -march=armv8.2-a+dotprod; it is reached only after available_isas() reported
// dotprod, and it touches no std::vector (see detail::GemmArgs).
#include <arm_neon.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "kernels/neon/qconv2d_s8_neon.hpp"
#include "kernels/neon/requantize_neon.hpp"

#if !defined(__ARM_FEATURE_DOTPROD)
#error "qconv2d_s8_neon_dot.cpp must be compiled with -march=armv8.2-a+dotprod"
#endif

namespace octet::kernels::neon::detail {
namespace {

// Stores an 8 x 8 tile given as int8 column pairs: by_col[p] = [col 2p rows 0-7 | col 2p+1 rows 0-7].
inline void store_tile_8x8(const int8x16_t (&by_col)[4], int64_t rows_left, int64_t cols_left, int8_t* out,
                           int64_t row_stride, int64_t col_stride) {
  if (rows_left >= 8 && cols_left >= 8) {
    if (row_stride == 1) {  // fully connected: a column is 8 consecutive outputs
      for (int p = 0; p < 4; ++p) {
        vst1_s8(out + (2 * p) * col_stride, vget_low_s8(by_col[p]));
        vst1_s8(out + (2 * p + 1) * col_stride, vget_high_s8(by_col[p]));
      }
      return;
    }
    if (col_stride == 1) {  // convolution: transpose with a 64-byte table lookup
      const int8x16x4_t table{{by_col[0], by_col[1], by_col[2], by_col[3]}};
      // Rows r and r+1 of the transposed tile: bytes 8 * c + r, then 8 * c + r + 1.
      static const uint8_t kRows01[16] = {0, 8, 16, 24, 32, 40, 48, 56, 1, 9, 17, 25, 33, 41, 49, 57};
      const uint8x16_t base = vld1q_u8(kRows01);
      for (int p = 0; p < 4; ++p) {
        const int8x16_t rows = vqtbl4q_s8(table, vaddq_u8(base, vdupq_n_u8(static_cast<uint8_t>(2 * p))));
        vst1_s8(out + (2 * p) * row_stride, vget_low_s8(rows));
        vst1_s8(out + (2 * p + 1) * row_stride, vget_high_s8(rows));
      }
      return;
    }
  }
  alignas(16) int8_t tmp[64];
  for (int p = 0; p < 4; ++p) vst1q_s8(tmp + 16 * p, by_col[p]);
  const int64_t rows = std::min<int64_t>(rows_left, 8), cols = std::min<int64_t>(cols_left, 8);
  for (int64_t c = 0; c < cols; ++c)
    for (int64_t r = 0; r < rows; ++r) out[r * row_stride + c * col_stride] = tmp[c * 8 + r];
}

// acc[c][h] += rows 4h..4h+3 of the weights . column c (lane c % 4 of the activation vector).
template <int C>
inline void dot_column(int32x4_t (&acc)[2], int8x16_t w0, int8x16_t w1, int8x16_t x) {
  acc[0] = vdotq_laneq_s32(acc[0], w0, x, C % 4);
  acc[1] = vdotq_laneq_s32(acc[1], w1, x, C % 4);
}

template <int... C>
inline void dot_columns(int32x4_t (&acc)[sizeof...(C)][2], int8x16_t w0, int8x16_t w1, int8x16_t x0, int8x16_t x1,
                        std::integer_sequence<int, C...>) {
  (dot_column<C>(acc[C], w0, w1, C < 4 ? x0 : x1), ...);
}

// One 8-row x Cols-column tile (Cols <= 8 real columns of the 8-column panel block). Per K group
// of 4: two weight vectors (8 rows x 4 k), one or two activation vectors (4 cols x 4 k each),
// 2 * Cols SDOTs by element.
template <int Cols>
void tile_8x8(const GemmArgs& g, int64_t row_block, int64_t col_block) {
  const int64_t quads = g.padded_depth / 4;
  const int8_t* wp = g.weights + row_block * quads * 32;
  const int8_t* ap = g.panel + col_block * quads * 32;
  int32x4_t acc[Cols][2];
  for (auto& col : acc) col[0] = col[1] = vdupq_n_s32(0);
  for (int64_t q = 0; q < quads; ++q) {
    const int8x16_t w0 = vld1q_s8(wp + q * 32), w1 = vld1q_s8(wp + q * 32 + 16);
    const int8x16_t x0 = vld1q_s8(ap + q * 32);
    const int8x16_t x1 = Cols > 4 ? vld1q_s8(ap + q * 32 + 16) : x0;
    dot_columns(acc, w0, w1, x0, x1, std::make_integer_sequence<int, Cols>{});
  }
  const int64_t row = row_block * 8;
  const LaneRequant q0{vld1q_s32(g.multiplier + row), vld1q_s32(g.left + row), vld1q_s32(g.negative_right + row)};
  const LaneRequant q1{vld1q_s32(g.multiplier + row + 4), vld1q_s32(g.left + row + 4),
                       vld1q_s32(g.negative_right + row + 4)};
  const int32x4_t bias0 = vld1q_s32(g.bias + row), bias1 = vld1q_s32(g.bias + row + 4);
  const int32x4_t zp = vdupq_n_s32(g.output_zero_point), low = vdupq_n_s32(g.low), high = vdupq_n_s32(g.high);
  int16x8_t column[8];
  for (int c = 0; c < 8; ++c) {
    if (c >= Cols) {
      column[c] = vdupq_n_s16(0);
      continue;
    }
    const int32x4_t y0 = requantize_lanes(vaddq_s32(acc[c][0], bias0), q0, zp, low, high);
    const int32x4_t y1 = requantize_lanes(vaddq_s32(acc[c][1], bias1), q1, zp, low, high);
    column[c] = vcombine_s16(vqmovn_s32(y0), vqmovn_s32(y1));  // exact: values in [-128, 127]
  }
  int8x16_t by_col[4];
  for (int p = 0; p < 4; ++p) by_col[p] = vcombine_s8(vqmovn_s16(column[2 * p]), vqmovn_s16(column[2 * p + 1]));
  const int64_t col = col_block * 8;
  store_tile_8x8(by_col, g.rows - row, g.cols - col, g.out + row * g.row_stride + col * g.col_stride, g.row_stride,
                 g.col_stride);
}

}  // namespace

void gemm_dot(const GemmArgs& g, int threads) {
  const int64_t row_blocks = g.padded_rows / 8;
  const int64_t col_blocks = (g.cols + 7) / 8;
  const int64_t tiles = row_blocks * col_blocks;
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1 && tiles > 1)
  for (int64_t t = 0; t < tiles; ++t) {
    const int64_t cb = g.cols_outer ? t / row_blocks : t % col_blocks;
    const int64_t rb = g.cols_outer ? t % row_blocks : t / col_blocks;
    switch (std::min<int64_t>(g.cols - cb * 8, 8)) {
      case 1: tile_8x8<1>(g, rb, cb); break;
      case 2: tile_8x8<2>(g, rb, cb); break;
      case 3: tile_8x8<3>(g, rb, cb); break;
      case 4: tile_8x8<4>(g, rb, cb); break;
      case 5: tile_8x8<5>(g, rb, cb); break;
      case 6: tile_8x8<6>(g, rb, cb); break;
      case 7: tile_8x8<7>(g, rb, cb); break;
      default: tile_8x8<8>(g, rb, cb); break;
    }
  }
}

}  // namespace octet::kernels::neon::detail
