#pragma once
// AVX2 int8 convolution and fully connected layers, bit-exact with kernels/ref.
//
// The GEMM computes out[row][col] = requant(bias[row] + sum_k (x[k][col] - zp) * w[row][k]) with
// rows = output channels and cols = output pixels, so an NCHW output row is contiguous. The inner
// loop is vpmaddubsw (u8 x s8 pairs summed to int16) + vpmaddwd (pairs to int32) + vpaddd:
//  - activations enter as the unsigned operand u = x + 128; the -128 - zp correction times
//    sum_k w[row][k] is folded into the bias when the weights are packed;
//  - vpmaddubsw saturates when u0*w0 + u1*w1 leaves int16. With |w| <= 64 that cannot happen
//    (2 * 255 * 64 = 32640): the "7-bit weight" mode the quantizer produces for this path. Weights
//    outside it are split exactly as w = 2*hi + lo, hi in [-64, 63], lo in {0, 1}, at twice the
//    multiply cost. Either way every result equals the scalar reference.
//
// Packed layouts (MR = 4 rows, NR = 16 columns, K in groups of 4):
//   weights:     [row blocks of 4][K/4][4 rows][4 k] int8, rows and K zero-padded
//   activations: [column blocks of 16][K/4][16 columns][4 k] uint8, padding u = 0
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/isa.hpp"
#include "kernels/ref/conv2d_f32_ref.hpp"
#include "kernels/ref/qconv2d_s8_ref.hpp"

namespace octet::kernels::avx2 {

constexpr int64_t kRowTile = 4;
constexpr int64_t kColTile = 16;

struct PackedWeights {
  int64_t rows = 0, depth = 0;         // logical [rows][depth]
  int64_t padded_rows = 0, padded_depth = 0;
  bool vnni = false;                   // packed for the VNNI tiles (exact for any int8 weight)
  bool split = false;                  // AVX2 only: weights outside [-64, 64], hi/lo halves
  bool channel_quads = false;          // K in the channel-quad order of kernels/phase_planes_s8.hpp
  bool channel_lanes = false;          // VNNI, narrow outputs: [row blocks of 16][K/4][16 rows][4 k]
                                       // for kernels/avx512/qgemm_channel_lanes_vnni.hpp
  std::vector<int8_t> data;            // main (or hi) half, packed
  std::vector<int8_t> low;             // lo half when split
  std::vector<int32_t> row_sums;       // sum_k w[row][k] (padded_rows)
};

// `weights` is [rows][depth] row-major (OIHW for a convolution: depth = C/g * kh * kw).
// `vnni`: pack for the AVX-512-VNNI tiles (the CPU must have them: see kernels/isa.hpp);
// `channel_lanes` (with vnni): for the channel-lane tiles of narrow outputs instead of the
// column tiles (see vnni_channel_lanes_suit).
PackedWeights pack_weights(const int8_t* weights, int64_t rows, int64_t depth, bool vnni = false,
                           bool channel_lanes = false);

// Whether a VNNI GEMM of `cols` outputs per channel runs faster on the channel-lane tiles
// (output channels in the lanes, kernels/avx512/qgemm_channel_lanes_vnni.hpp) than on the
// column tiles (16 columns per register), which compute `computed_cols` columns instead (a
// convolution's extended columns; cols for a plain GEMM): true for narrow outputs, such as
// ResNet's 7x7 maps, and, on a core that issues three loads per cycle (kernels/isa.hpp), for
// small maps where the column tiles would waste more than a tenth of their work on extended
// and padding columns (a 3x3 convolution on a 14x14 map: 224 for 196), and on one that issues
// four narrow loads per cycle (Zen 5) for every map up to 256 pixels. The channel-lane tiles
// load each column's activations by a broadcast of their own, about one load per vpdpbusd.
bool vnni_channel_lanes_suit(int64_t cols, int64_t computed_cols, CoreLoads loads);

// Which VNNI tiles a convolution's weights are packed for: chosen from the output size and the
// core (vnni_channel_lanes_suit of out_h * out_w and conv_panel_columns, with
// cpu_core_loads), or forced (tests run both on every shape).
enum class VnniTiles { by_shape, columns, channel_lanes };

// One group's convolution weights ([rows][C/groups * kh * kw], OIHW). With `vnni`, a convolution
// that needs im2col (not pointwise) is packed in channel-quad K order, and qconv2d_s8_avx2 then
// reads its activations from channel-quad planes instead of an im2col panel.
PackedWeights pack_conv_weights(const Conv2dShape& shape, const int8_t* weights, int64_t rows, bool vnni = false,
                                VnniTiles tiles = VnniTiles::by_shape);

// The per-row output stage with the zero-point correction folded into the bias:
// bias'[row] = bias[row] - (128 + input_zero_point) * row_sums[row].
struct RowOutputStage {
  std::vector<int32_t> bias;  // padded_rows + 8 (spare rows are zero)
  std::vector<int32_t> multiplier, left, right;  // padded_rows + 8
  // The same requantization as kernels/requantize.hpp's one-step form (OneStepRounding), per
  // row, for the AVX-512 epilogues; padded_rows + 8.
  std::vector<int64_t> rounding_offset, negative_drop, product_shift;
  std::vector<int32_t> zero_point_after;
  int32_t output_zero_point = 0, low = -128, high = 127;
};
RowOutputStage make_row_output_stage(const PackedWeights& weights, int32_t input_zero_point,
                                     const QuantizedOutputStage& stage);

// Bytes of the packed activation panel for `cols` columns.
size_t panel_bytes(const PackedWeights& weights, int64_t cols);

// The GEMM columns of a convolution: out_h * out_w for a pointwise (1x1, stride 1, unpadded)
// convolution, else the extended columns of kernels/phase_planes_s8.hpp (out_h * W, W >= out_w).
int64_t conv_panel_columns(const Conv2dShape& shape);

// Implicit im2col of one image and one group into the packed panel of conv_panel_columns(shape)
// columns (u = x + 128; padding holds the zero point, i.e. u = zp + 128).
// `avx512`: pack with the AVX-512 packer (same layout; the CPU must have AVX-512BW, as it has
// whenever the weights are VNNI-packed).
void pack_conv_panel(const Conv2dShape& shape, const int8_t* image, int64_t group, int32_t input_zero_point,
                     int64_t padded_depth, uint8_t* panel, int threads = 1, bool avx512 = false);

// out[row][col] for rows [0, rows) and all cols, rows `row_stride` apart. Threads split the
// tiles; each output is computed by exactly one thread in a fixed order, so results do not
// depend on the thread count.
void gemm_packed(const PackedWeights& weights, const RowOutputStage& stage, const uint8_t* panel, int64_t cols,
                 int8_t* out, int64_t row_stride, int threads);

// A whole (grouped) convolution: weights packed per group (groups entries).
void qconv2d_s8_avx2(const Conv2dShape& shape, const int8_t* input, int32_t input_zero_point,
                     const std::vector<PackedWeights>& weights, const std::vector<RowOutputStage>& stages,
                     int8_t* output, int threads);

// Fully connected: a [m][k] -> out [m][n] (weights packed as [n][k]).
void qgemm_s8_avx2(int64_t m, const int8_t* a, int32_t a_zero_point, const PackedWeights& weights,
                   const RowOutputStage& stage, int8_t* output, int threads);

}  // namespace octet::kernels::avx2
