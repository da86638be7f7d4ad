#pragma once
// AArch64 NEON int8 convolution and fully connected layers, bit-exact with kernels/ref.
//
// One GEMM computes out[row][col] = requant(bias[row] + sum_k (x[k][col] - zp) * w[row][k]), rows =
// output channels, cols = output pixels (conv) or batch rows (fully connected). Activations enter
// as plain int8 (s8 x s8 needs no +128 shift); the zero point is folded into the bias when the
// output stage is made: sum (x - zp) w = sum x w - zp * sum w. Two paths, both exact for every
// int8 activation and every int8 weight (-128 included):
//
//  - baseline (ARMv8.0 Advanced SIMD), 4 rows x 4 cols, K in blocks of 16 (ruy's non-dotprod
//    kernel shape): per (row, col) pair an int32x4 accumulator; SMULL + SMLAL2 multiply the 16 k
//    of one row and one col into 8 int16 lanes holding two products each, SADALP adds the pairs
//    into the int32 lanes; a final pairwise reduction gives the 4 x 4 sums. Two products fit
//    int16 because |x * w| <= 128 * 127 (weights in [-127, 127], the quantizer's range:
//    2 * 16256 = 32512). Weights holding -128 (2 * 128 * 128 = 32768 overflows) are detected at
//    packing and take a variant that widens after every single product (SMULL, SMULL2, two
//    SADALP).
//  - dot (ARMv8.2 SDOT, file compiled with -march=armv8.2-a+dotprod), 8 rows x 8 cols, K in
//    groups of 4: SDOT (by element) adds 4 s8 x s8 products into each int32 lane exactly; one
//    instruction = 4 rows x 1 col x 4 k, 16 per k group.
//
// Packed layouts (weights once at prepare time, activations per call; rows, cols and K
// zero-padded; accumulator lanes are rows, so a fully connected output [m][n] is stored
// straight, a conv output [oc][pixels] through a small in-register transpose):
//   baseline weights: [row blocks of 4][K/16][4 rows][16 k]   panel: [col blocks of 4][K/16][4 cols][16 k]
//   dot weights:      [row blocks of 8][K/4][8 rows][4 k]     panel: [col blocks of 8][K/4][8 cols][4 k]
// Threads split the tiles; each output is computed by exactly one thread in a fixed order, so
// results do not depend on the thread count.
//
// Only compiled on AArch64 (kernels/CMakeLists.txt); the dot entry points need a CPU with
// dotprod (Isa::neon_dot in available_isas()), and throw std::runtime_error otherwise.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/ref/conv2d_f32_ref.hpp"
#include "kernels/ref/qconv2d_s8_ref.hpp"

namespace octet::kernels::neon {

// Tile geometry of the two paths.
struct TileShape {
  int64_t rows, cols, depth;  // MR, NR, K block
};
constexpr TileShape kBaselineTile{4, 4, 16};
constexpr TileShape kDotTile{8, 8, 4};

struct PackedWeights {
  int64_t rows = 0, depth = 0;         // logical [rows][depth]
  int64_t padded_rows = 0, padded_depth = 0;
  bool dot = false;                    // packed for the SDOT path (else baseline)
  bool has_min = false;                // some weight is -128 (baseline: one product per int16 lane)
  std::vector<int8_t> data;            // packed weights
  std::vector<int32_t> row_sums;       // sum_k w[row][k] (padded_rows)
  TileShape tile() const { return dot ? kDotTile : kBaselineTile; }
};

// `weights` is [rows][depth] row-major (OIHW for a convolution: depth = C/g * kh * kw), packed
// for the dot path (use_dot) or the baseline path. Throws if use_dot and the CPU lacks dotprod.
PackedWeights pack_weights(const int8_t* weights, int64_t rows, int64_t depth, bool use_dot);

// The per-row output stage with the zero-point correction folded into the bias:
// bias'[row] = bias[row] - input_zero_point * row_sums[row]. Arrays are padded_rows long
// (padding rows have multiplier 0) so the kernels load them as vectors.
struct RowOutputStage {
  std::vector<int32_t> bias;
  std::vector<int32_t> multiplier, left, negative_right;  // Q31 M0, max(shift, 0), -max(-shift, 0)
  int32_t output_zero_point = 0, low = -128, high = 127;
};
RowOutputStage make_row_output_stage(const PackedWeights& weights, int32_t input_zero_point,
                                     const QuantizedOutputStage& stage);

// Bytes of the packed activation panel for `cols` columns (cols rounded up to 16).
size_t panel_bytes(const PackedWeights& weights, int64_t cols);

// im2col of one image and one group into the panel layout of `weights` (padding holds the input
// zero point, i.e. real 0). A 1x1 stride-1 unpadded convolution packs straight from the NCHW
// planes. `panel` holds panel_bytes(weights, out_h * out_w) bytes.
void pack_conv_panel(const Conv2dShape& shape, const int8_t* image, int64_t group, int32_t input_zero_point,
                     const PackedWeights& weights, int8_t* panel, int threads);

// out[row * row_stride + col * col_stride] for rows [0, rows) and cols [0, cols) from a packed
// panel (conv: row_stride = pixels, col_stride = 1; fully connected: row_stride = 1,
// col_stride = n).
void gemm_packed(const PackedWeights& weights, const RowOutputStage& stage, const int8_t* panel, int64_t cols,
                 int8_t* out, int64_t row_stride, int64_t col_stride, int threads);

// A whole (grouped) convolution, NCHW in and out: weights and stages per group (groups entries),
// all packed for the path `use_dot` selects (a mismatch throws std::invalid_argument).
void qconv2d_s8_neon(const Conv2dShape& shape, const int8_t* input, int32_t input_zero_point,
                     const std::vector<PackedWeights>& per_group, const std::vector<RowOutputStage>& per_group_stages,
                     int8_t* output, int threads, bool use_dot);

// Fully connected: a [m][k] -> out [m][n] (weights packed as [n][k]).
void qgemm_s8_neon(int64_t m, const int8_t* a, int32_t a_zero_point, const PackedWeights& weights,
                   const RowOutputStage& stage, int8_t* output, int threads, bool use_dot);

namespace detail {

// Everything a tile loop needs, as raw pointers: the SDOT translation unit (built with other
// target flags) sees no std::vector, so it instantiates no library template the linker could
// then share with baseline code.
struct GemmArgs {
  const int8_t* weights;
  int64_t rows, padded_rows, padded_depth;
  const int32_t* bias;
  const int32_t* multiplier;
  const int32_t* left;
  const int32_t* negative_right;
  int32_t output_zero_point, low, high;
  const int8_t* panel;
  int64_t cols;
  int8_t* out;
  int64_t row_stride, col_stride;
  bool cols_outer;  // tile order: column blocks outermost (weights stay in cache) or rows outermost
};

// The SDOT tile loop (qconv2d_s8_neon_dot.cpp).
void gemm_dot(const GemmArgs& args, int threads);

}  // namespace detail

}  // namespace octet::kernels::neon
