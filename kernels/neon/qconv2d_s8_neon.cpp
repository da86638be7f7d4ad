#include "kernels/neon/qconv2d_s8_neon.hpp"

#include <arm_neon.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "kernels/im2col_s8.hpp"
#include "kernels/isa.hpp"
#include "kernels/neon/requantize_neon.hpp"

namespace octet::kernels::neon {
namespace {

int64_t round_up(int64_t value, int64_t multiple) { return (value + multiple - 1) / multiple * multiple; }

// Panels are built 16 columns at a time (one 16-byte vector per K row), so they are allocated
// for a multiple of 16 columns; both column tiles (4 and 8) divide it.
constexpr int64_t kPackColumns = 16;

void require_dot(const char* where) {
  if (!(available_isas() & static_cast<uint32_t>(Isa::neon_dot)))
    throw std::runtime_error(std::string(where) + ": the NEON dot-product path needs an ARMv8.2 CPU with dotprod");
}

// Scratch buffer per thread, 64-byte aligned: the kernels are shared (const) across sessions
// and threads. `slot` separates the panel from the im2col rows.
int8_t* scratch(size_t bytes, int slot) {
  thread_local std::vector<int8_t> buffers[2];
  thread_local int8_t* aligned[2] = {nullptr, nullptr};
  std::vector<int8_t>& buffer = buffers[slot];
  if (buffer.size() < bytes + 64) {
    buffer.assign(bytes + 64, 0);
    aligned[slot] = reinterpret_cast<int8_t*>((reinterpret_cast<uintptr_t>(buffer.data()) + 63) & ~uintptr_t{63});
  }
  return aligned[slot];
}

// ---- panel packing ---------------------------------------------------------------------------

// 16 x 16 byte transpose: rows[i] byte j -> rows[j] byte i (trn1/trn2 butterflies on 8, 16,
// 32 and 64-bit elements).
inline void transpose_16x16(int8x16_t (&x)[16]) {
  for (int i = 0; i < 16; i += 2) {
    const int8x16_t a = x[i], b = x[i + 1];
    x[i] = vtrn1q_s8(a, b);
    x[i + 1] = vtrn2q_s8(a, b);
  }
  for (int i = 0; i < 16; ++i) {
    if (i & 2) continue;
    const int16x8_t a = vreinterpretq_s16_s8(x[i]), b = vreinterpretq_s16_s8(x[i + 2]);
    x[i] = vreinterpretq_s8_s16(vtrn1q_s16(a, b));
    x[i + 2] = vreinterpretq_s8_s16(vtrn2q_s16(a, b));
  }
  for (int i = 0; i < 16; ++i) {
    if (i & 4) continue;
    const int32x4_t a = vreinterpretq_s32_s8(x[i]), b = vreinterpretq_s32_s8(x[i + 4]);
    x[i] = vreinterpretq_s8_s32(vtrn1q_s32(a, b));
    x[i + 4] = vreinterpretq_s8_s32(vtrn2q_s32(a, b));
  }
  for (int i = 0; i < 8; ++i) {
    const int64x2_t a = vreinterpretq_s64_s8(x[i]), b = vreinterpretq_s64_s8(x[i + 8]);
    x[i] = vreinterpretq_s8_s64(vtrn1q_s64(a, b));
    x[i + 8] = vreinterpretq_s8_s64(vtrn2q_s64(a, b));
  }
}

// Interleaves one K block (tile.depth rows of `cols` int8 values) into the panel: columns
// [c, c+16) of the block become [16 / NR col blocks][NR cols][depth k] at their places.
// `rows[i]` may be read up to `cols` only; the last partial 16 columns go through a copy.
void interleave_k_block(const int8_t* const* rows, int64_t cols, TileShape tile, int64_t k_blocks, int64_t k_block,
                        int8_t* panel) {
  const int64_t block_bytes = tile.cols * tile.depth;  // one col block x one K block
  for (int64_t c = 0; c < cols; c += kPackColumns) {
    const int64_t count = std::min<int64_t>(kPackColumns, cols - c);
    int8x16_t x[16];
    for (int64_t i = 0; i < tile.depth; ++i) {
      if (count == kPackColumns) {
        x[i] = vld1q_s8(rows[i] + c);
      } else {
        int8_t tail[16] = {};
        std::memcpy(tail, rows[i] + c, static_cast<size_t>(count));
        x[i] = vld1q_s8(tail);
      }
    }
    int8_t* dst = panel + ((c / tile.cols) * k_blocks + k_block) * block_bytes;
    const int64_t col_block_stride = k_blocks * block_bytes;
    if (tile.depth == 16) {
      // x[k] holds 16 columns of row k; after the transpose x[j] holds column j's 16 k.
      transpose_16x16(x);
      for (int j = 0; j < 16; ++j) vst1q_s8(dst + (j / 4) * col_block_stride + (j % 4) * 16, x[j]);
    } else {
      // depth 4, 8 columns per block: zip rows 0/1 and 2/3 bytewise, then the pairs halfword-wise
      // -> [col][4 k] for 4 columns per vector.
      const int8x16_t ab_lo = vzip1q_s8(x[0], x[1]), ab_hi = vzip2q_s8(x[0], x[1]);
      const int8x16_t cd_lo = vzip1q_s8(x[2], x[3]), cd_hi = vzip2q_s8(x[2], x[3]);
      const int16x8_t p = vreinterpretq_s16_s8(ab_lo), q = vreinterpretq_s16_s8(cd_lo);
      const int16x8_t r = vreinterpretq_s16_s8(ab_hi), s = vreinterpretq_s16_s8(cd_hi);
      vst1q_s8(dst, vreinterpretq_s8_s16(vzip1q_s16(p, q)));                               // cols 0-3
      vst1q_s8(dst + 16, vreinterpretq_s8_s16(vzip2q_s16(p, q)));                          // cols 4-7
      vst1q_s8(dst + col_block_stride, vreinterpretq_s8_s16(vzip1q_s16(r, s)));            // cols 8-11
      vst1q_s8(dst + col_block_stride + 16, vreinterpretq_s8_s16(vzip2q_s16(r, s)));       // cols 12-15
    }
  }
}

// ---- baseline 4 x 4 microkernel --------------------------------------------------------------

// Stores a 4 x 4 tile given as four int32x4 columns (lanes = rows, values in [-128, 127]).
inline void store_tile_4x4(const int32x4_t (&v)[4], int64_t rows_left, int64_t cols_left, int8_t* out,
                           int64_t row_stride, int64_t col_stride) {
  const int16x8_t c01 = vcombine_s16(vqmovn_s32(v[0]), vqmovn_s32(v[1]));
  const int16x8_t c23 = vcombine_s16(vqmovn_s32(v[2]), vqmovn_s32(v[3]));
  const int8x16_t by_col = vcombine_s8(vqmovn_s16(c01), vqmovn_s16(c23));  // [col][row]
  alignas(16) int8_t tmp[16];
  if (rows_left >= 4 && cols_left >= 4 && (col_stride == 1 || row_stride == 1)) {
    if (col_stride == 1) {
      static const uint8_t kTranspose[16] = {0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15};
      vst1q_s8(tmp, vqtbl1q_s8(by_col, vld1q_u8(kTranspose)));  // [row][col]
      for (int r = 0; r < 4; ++r) std::memcpy(out + r * row_stride, tmp + 4 * r, 4);
    } else {
      vst1q_s8(tmp, by_col);
      for (int c = 0; c < 4; ++c) std::memcpy(out + c * col_stride, tmp + 4 * c, 4);
    }
    return;
  }
  vst1q_s8(tmp, by_col);
  const int64_t rows = std::min<int64_t>(rows_left, 4), cols = std::min<int64_t>(cols_left, 4);
  for (int64_t c = 0; c < cols; ++c)
    for (int64_t r = 0; r < rows; ++r) out[r * row_stride + c * col_stride] = tmp[c * 4 + r];
}

// One 4-row x Cols-column tile (Cols <= 4 real columns of the 4-column panel block). MinSafe:
// the weights hold -128, widen after every single product.
template <int Cols, bool MinSafe>
void tile_4x4(const detail::GemmArgs& g, int64_t row_block, int64_t col_block) {
  const int64_t k_blocks = g.padded_depth / 16;
  const int8_t* wp = g.weights + row_block * k_blocks * 64;
  const int8_t* ap = g.panel + col_block * k_blocks * 64;
  int32x4_t acc[4][Cols];
  for (auto& row : acc)
    for (auto& a : row) a = vdupq_n_s32(0);
  for (int64_t b = 0; b < k_blocks; ++b) {
    int8x16_t w[4], x[Cols];
    for (int r = 0; r < 4; ++r) w[r] = vld1q_s8(wp + b * 64 + r * 16);
    for (int c = 0; c < Cols; ++c) x[c] = vld1q_s8(ap + b * 64 + c * 16);
    for (int r = 0; r < 4; ++r)
      for (int c = 0; c < Cols; ++c) {
        if (MinSafe) {
          acc[r][c] = vpadalq_s16(acc[r][c], vmull_s8(vget_low_s8(w[r]), vget_low_s8(x[c])));
          acc[r][c] = vpadalq_s16(acc[r][c], vmull_high_s8(w[r], x[c]));
        } else {
          // |w * x| <= 127 * 128: two products per int16 lane are exact.
          const int16x8_t p = vmlal_high_s8(vmull_s8(vget_low_s8(w[r]), vget_low_s8(x[c])), w[r], x[c]);
          acc[r][c] = vpadalq_s16(acc[r][c], p);
        }
      }
  }
  const int64_t row = row_block * 4;
  const LaneRequant q{vld1q_s32(g.multiplier + row), vld1q_s32(g.left + row), vld1q_s32(g.negative_right + row)};
  const int32x4_t bias = vld1q_s32(g.bias + row);
  const int32x4_t zp = vdupq_n_s32(g.output_zero_point), low = vdupq_n_s32(g.low), high = vdupq_n_s32(g.high);
  int32x4_t y[4];
  for (int c = 0; c < 4; ++c) {
    if (c >= Cols) {
      y[c] = vdupq_n_s32(0);
      continue;
    }
    // Pairwise reduction of the 4 partial sums of each (row, col): lanes become rows 0..3.
    const int32x4_t sums =
        vpaddq_s32(vpaddq_s32(acc[0][c], acc[1][c]), vpaddq_s32(acc[2][c], acc[3][c]));
    y[c] = requantize_lanes(vaddq_s32(sums, bias), q, zp, low, high);
  }
  const int64_t col = col_block * 4;
  store_tile_4x4(y, g.rows - row, g.cols - col, g.out + row * g.row_stride + col * g.col_stride, g.row_stride,
                 g.col_stride);
}

template <bool MinSafe>
void gemm_baseline(const detail::GemmArgs& g, int threads) {
  const int64_t row_blocks = g.padded_rows / 4;
  const int64_t col_blocks = round_up(g.cols, 4) / 4;
  const int64_t tiles = row_blocks * col_blocks;
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1 && tiles > 1)
  for (int64_t t = 0; t < tiles; ++t) {
    const int64_t cb = g.cols_outer ? t / row_blocks : t % col_blocks;
    const int64_t rb = g.cols_outer ? t % row_blocks : t / col_blocks;
    switch (std::min<int64_t>(g.cols - cb * 4, 4)) {
      case 1: tile_4x4<1, MinSafe>(g, rb, cb); break;
      case 2: tile_4x4<2, MinSafe>(g, rb, cb); break;
      case 3: tile_4x4<3, MinSafe>(g, rb, cb); break;
      default: tile_4x4<4, MinSafe>(g, rb, cb); break;
    }
  }
}

void check_path(const PackedWeights& w, bool use_dot, const char* where) {
  if (w.dot != use_dot)
    throw std::invalid_argument(std::string(where) + ": weights packed for the " + (w.dot ? "dot" : "baseline") +
                                " path, called for the " + (use_dot ? "dot" : "baseline") + " path");
  if (use_dot) require_dot(where);
}

}  // namespace

PackedWeights pack_weights(const int8_t* weights, int64_t rows, int64_t depth, bool use_dot) {
  if (use_dot) require_dot("neon::pack_weights");
  PackedWeights p;
  p.rows = rows;
  p.depth = depth;
  p.dot = use_dot;
  const TileShape tile = p.tile();
  p.padded_rows = round_up(std::max<int64_t>(rows, 1), tile.rows);
  p.padded_depth = round_up(std::max<int64_t>(depth, 1), tile.depth);
  p.data.assign(static_cast<size_t>(p.padded_rows * p.padded_depth), 0);
  p.row_sums.assign(static_cast<size_t>(p.padded_rows), 0);
  const int64_t k_blocks = p.padded_depth / tile.depth;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; k < depth; ++k) {
      const int8_t v = weights[r * depth + k];
      p.row_sums[static_cast<size_t>(r)] += v;
      p.has_min = p.has_min || v == -128;
      const int64_t index =
          ((r / tile.rows) * k_blocks + k / tile.depth) * tile.rows * tile.depth + (r % tile.rows) * tile.depth +
          k % tile.depth;
      p.data[static_cast<size_t>(index)] = v;
    }
  return p;
}

RowOutputStage make_row_output_stage(const PackedWeights& w, int32_t input_zero_point,
                                     const QuantizedOutputStage& stage) {
  RowOutputStage s;
  const size_t n = static_cast<size_t>(w.padded_rows);
  s.bias.assign(n, 0);
  s.multiplier.assign(n, 0);
  s.left.assign(n, 0);
  s.negative_right.assign(n, 0);
  for (int64_t r = 0; r < w.rows; ++r) {
    const size_t i = static_cast<size_t>(r);
    // sum (x - zp) w = sum x w - zp sum w (modulo 2^32 like the int32 accumulation).
    const int64_t folded = static_cast<int64_t>(stage.bias ? stage.bias[r] : 0) -
                           static_cast<int64_t>(input_zero_point) * w.row_sums[i];
    s.bias[i] = static_cast<int32_t>(static_cast<uint32_t>(folded));
    const QuantizedMultiplier& m = stage.multiplier(r);
    s.multiplier[i] = m.multiplier;
    s.left[i] = m.shift > 0 ? m.shift : 0;
    s.negative_right[i] = m.shift > 0 ? 0 : m.shift;
  }
  s.output_zero_point = stage.output_zero_point;
  s.low = stage.low;
  s.high = stage.high;
  return s;
}

size_t panel_bytes(const PackedWeights& w, int64_t cols) {
  return static_cast<size_t>(round_up(std::max<int64_t>(cols, 1), kPackColumns) * w.padded_depth);
}

void pack_conv_panel(const Conv2dShape& s, const int8_t* image, int64_t group, int32_t input_zero_point,
                     const PackedWeights& w, int8_t* panel, int threads) {
  const TileShape tile = w.tile();
  const int64_t in_per_group = s.in_channels / s.groups;
  const int64_t taps = s.kernel_h * s.kernel_w;
  const int64_t cols = s.out_h * s.out_w;
  const int64_t k_blocks = w.padded_depth / tile.depth;
  const int8_t pad = static_cast<int8_t>(input_zero_point);
  const bool pointwise = s.kernel_h == 1 && s.kernel_w == 1 && s.stride_h == 1 && s.stride_w == 1 &&
                         s.pad_top == 0 && s.pad_left == 0 && s.out_h == s.in_h && s.out_w == s.in_w;
  const int8_t* planes = image + group * in_per_group * s.in_h * s.in_w;
  const size_t row_bytes = static_cast<size_t>(round_up(cols, kPackColumns));
#pragma omp parallel num_threads(threads) if (threads > 1 && k_blocks > 1)
  {
    // Per thread: the im2col rows of one K block, and a zero row for K padding.
    int8_t* rows_buffer = pointwise ? nullptr : scratch(row_bytes * static_cast<size_t>(tile.depth + 1), 1);
    int8_t* zero_row = pointwise ? scratch(row_bytes, 1) : rows_buffer + row_bytes * static_cast<size_t>(tile.depth);
    std::memset(zero_row, 0, row_bytes);
#pragma omp for schedule(static)
    for (int64_t kb = 0; kb < k_blocks; ++kb) {
      const int8_t* rows[16];
      for (int64_t i = 0; i < tile.depth; ++i) {
        const int64_t k = kb * tile.depth + i;
        if (k >= w.depth) {
          rows[i] = zero_row;
        } else if (pointwise) {
          rows[i] = planes + k * cols;
        } else {
          const int64_t ic = k / taps, tap = k % taps;
          int8_t* row = rows_buffer + static_cast<size_t>(i) * row_bytes;
          im2col_row_s8(s, planes + ic * s.in_h * s.in_w, tap / s.kernel_w, tap % s.kernel_w, pad, row);
          rows[i] = row;
        }
      }
      interleave_k_block(rows, cols, tile, k_blocks, kb, panel);
    }
  }
}

void gemm_packed(const PackedWeights& w, const RowOutputStage& s, const int8_t* panel, int64_t cols, int8_t* out,
                 int64_t row_stride, int64_t col_stride, int threads) {
  if (cols <= 0 || w.rows <= 0) return;
  const TileShape tile = w.tile();
  // Keep the smaller operand resident: with column blocks outermost every column block walks
  // all the weights (good when they fit in cache), else every row block walks the whole panel.
  const int64_t panel_size = round_up(cols, tile.cols) * w.padded_depth;
  const int64_t weight_size = w.padded_rows * w.padded_depth;
  const detail::GemmArgs args{w.data.data(), w.rows, w.padded_rows, w.padded_depth, s.bias.data(),
                              s.multiplier.data(), s.left.data(), s.negative_right.data(), s.output_zero_point,
                              s.low, s.high, panel, cols, out, row_stride, col_stride,
                              weight_size <= panel_size};
  if (w.dot)
    detail::gemm_dot(args, threads);
  else if (w.has_min)
    gemm_baseline<true>(args, threads);
  else
    gemm_baseline<false>(args, threads);
}

void qconv2d_s8_neon(const Conv2dShape& s, const int8_t* input, int32_t input_zero_point,
                     const std::vector<PackedWeights>& per_group, const std::vector<RowOutputStage>& per_group_stages,
                     int8_t* output, int threads, bool use_dot) {
  if (per_group.size() != static_cast<size_t>(s.groups) || per_group_stages.size() != per_group.size())
    throw std::invalid_argument("neon::qconv2d_s8_neon: expected one packed weight set and stage per group");
  for (const PackedWeights& w : per_group) check_path(w, use_dot, "neon::qconv2d_s8_neon");
  const int64_t cols = s.out_h * s.out_w;
  const int64_t out_per_group = s.out_channels / s.groups;
  for (int64_t n = 0; n < s.batch; ++n) {
    const int8_t* image = input + n * s.in_channels * s.in_h * s.in_w;
    for (int64_t g = 0; g < s.groups; ++g) {
      const PackedWeights& w = per_group[static_cast<size_t>(g)];
      int8_t* panel = scratch(panel_bytes(w, cols), 0);
      pack_conv_panel(s, image, g, input_zero_point, w, panel, threads);
      int8_t* out = output + (n * s.out_channels + g * out_per_group) * cols;
      gemm_packed(w, per_group_stages[static_cast<size_t>(g)], panel, cols, out, cols, 1, threads);
    }
  }
}

void qgemm_s8_neon(int64_t m, const int8_t* a, int32_t a_zero_point, const PackedWeights& w,
                   const RowOutputStage& stage, int8_t* output, int threads, bool use_dot) {
  check_path(w, use_dot, "neon::qgemm_s8_neon");
  (void)a_zero_point;  // folded into stage.bias by make_row_output_stage
  // Columns are the m input rows: each (row, K block) of `a` is one contiguous run of the panel.
  const TileShape tile = w.tile();
  const int64_t k_blocks = w.padded_depth / tile.depth;
  const size_t bytes = panel_bytes(w, m);
  int8_t* panel = scratch(bytes, 0);
  std::memset(panel, 0, bytes);
  for (int64_t col = 0; col < m; ++col)
    for (int64_t kb = 0; kb < k_blocks; ++kb) {
      const int64_t k = kb * tile.depth;
      if (k >= w.depth) break;
      std::memcpy(panel + ((col / tile.cols) * k_blocks + kb) * tile.cols * tile.depth + (col % tile.cols) * tile.depth,
                  a + col * w.depth + k, static_cast<size_t>(std::min<int64_t>(tile.depth, w.depth - k)));
    }
  // Accumulator lanes are rows (= n): out[m][n] is stored column by column, no transpose.
  gemm_packed(w, stage, panel, m, output, 1, w.rows, threads);
}

}  // namespace octet::kernels::neon
