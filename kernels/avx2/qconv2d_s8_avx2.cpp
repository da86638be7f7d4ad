#include "kernels/avx2/qconv2d_s8_avx2.hpp"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cstring>

#include "kernels/avx2/gemm_tile_avx2.hpp"
#include "kernels/avx2/requantize_avx2.hpp"
#include "kernels/avx512/channel_quad_plane_avx512.hpp"
#include "kernels/avx512/panel_interleave_avx512.hpp"
#include "kernels/avx512/qgemm_channel_lanes_vnni.hpp"
#include "kernels/avx512/qgemm_s8_avx512_vnni.hpp"
#include "kernels/isa.hpp"
#include "kernels/phase_planes_s8.hpp"
#include "kernels/ref/window_columns.hpp"

namespace octet::kernels::avx2 {
namespace {

int64_t round_up(int64_t value, int64_t multiple) { return (value + multiple - 1) / multiple * multiple; }

// Rows per packed block: the column tiles broadcast 4 rows' quads, the channel-lane tiles load
// 16 rows' quads as one register.
constexpr int64_t kChannelLaneRows = 16;

// Packs [rows][depth] into [row blocks][depth/4][block_rows][4 k] (zero padded).
std::vector<int8_t> pack_rows(const std::vector<int8_t>& w, int64_t rows, int64_t depth, int64_t padded_rows,
                              int64_t padded_depth, int64_t block_rows) {
  std::vector<int8_t> packed(static_cast<size_t>(padded_rows * padded_depth), 0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; k < depth; ++k) {
      const int64_t block = r / block_rows, quad = k / 4;
      packed[static_cast<size_t>(((block * (padded_depth / 4) + quad) * block_rows + r % block_rows) * 4 + k % 4)] =
          w[static_cast<size_t>(r * depth + k)];
    }
  return packed;
}

// u8 activations x broadcast s8 weight quad -> int32 partial sums, accumulated. With Split, the
// weight is the high half (counted twice) and a second product adds the low half.
#define OCTET_MADD(acc, a, wb, factor) \
  acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(a, wb), factor))

// One 4 x 16 tile: rows [row, row+4) x columns [col, col+16) of the padded problem. The eight
// accumulators are named variables, not an array, so they stay in registers (an indexed array
// made GCC spill them to the stack inside the loop).
template <bool Split>
void tile_4x16(const PackedWeights& w, const RowOutputStage& s, const uint8_t* panel_block, int64_t row_block,
               int64_t rows_left, int64_t cols_left, int8_t* out, int64_t row_stride) {
  const int64_t quads = w.padded_depth / 4;
  const int8_t* wp = w.data.data() + row_block * quads * 16;
  const int8_t* lp = Split ? w.low.data() + row_block * quads * 16 : nullptr;
  const __m256i ones = _mm256_set1_epi16(1);
  const __m256i factor = Split ? _mm256_set1_epi16(2) : ones;
  __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00,
          c31 = c00;
  for (int64_t q = 0; q < quads; ++q) {
    const __m256i a0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(panel_block + q * 64));
    const __m256i a1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(panel_block + q * 64 + 32));
    const int8_t* quad = wp + q * 16;
    __m256i wb = broadcast_quad(quad);
    OCTET_MADD(c00, a0, wb, factor);
    OCTET_MADD(c01, a1, wb, factor);
    wb = broadcast_quad(quad + 4);
    OCTET_MADD(c10, a0, wb, factor);
    OCTET_MADD(c11, a1, wb, factor);
    wb = broadcast_quad(quad + 8);
    OCTET_MADD(c20, a0, wb, factor);
    OCTET_MADD(c21, a1, wb, factor);
    wb = broadcast_quad(quad + 12);
    OCTET_MADD(c30, a0, wb, factor);
    OCTET_MADD(c31, a1, wb, factor);
    if (Split) {
      const int8_t* low = lp + q * 16;
      __m256i lb = broadcast_quad(low);
      OCTET_MADD(c00, a0, lb, ones);
      OCTET_MADD(c01, a1, lb, ones);
      lb = broadcast_quad(low + 4);
      OCTET_MADD(c10, a0, lb, ones);
      OCTET_MADD(c11, a1, lb, ones);
      lb = broadcast_quad(low + 8);
      OCTET_MADD(c20, a0, lb, ones);
      OCTET_MADD(c21, a1, lb, ones);
      lb = broadcast_quad(low + 12);
      OCTET_MADD(c30, a0, lb, ones);
      OCTET_MADD(c31, a1, lb, ones);
    }
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

#undef OCTET_MADD

}  // namespace

PackedWeights pack_weights(const int8_t* weights, int64_t rows, int64_t depth, bool vnni, bool channel_lanes) {
  PackedWeights p;
  p.vnni = vnni;
  p.channel_lanes = vnni && channel_lanes;
  p.rows = rows;
  p.depth = depth;
  const int64_t block_rows = p.channel_lanes ? kChannelLaneRows : kRowTile;
  p.padded_rows = round_up(rows, block_rows);
  p.padded_depth = round_up(std::max<int64_t>(depth, 1), 4);
  std::vector<int8_t> main(weights, weights + rows * depth), low;
  p.row_sums.assign(static_cast<size_t>(p.padded_rows), 0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; k < depth; ++k) {
      const int8_t v = weights[r * depth + k];
      p.row_sums[static_cast<size_t>(r)] += v;
      p.split = p.split || (!vnni && (v < -64 || v > 64));
    }
  if (p.split) {
    low.resize(main.size());
    for (size_t i = 0; i < main.size(); ++i) {
      const int8_t v = main[i];
      main[i] = static_cast<int8_t>(v >> 1);                // floor(v / 2): [-64, 63]
      low[i] = static_cast<int8_t>(v - 2 * (v >> 1));       // 0 or 1
    }
    p.low = pack_rows(low, rows, depth, p.padded_rows, p.padded_depth, block_rows);
  }
  p.data = pack_rows(main, rows, depth, p.padded_rows, p.padded_depth, block_rows);
  return p;
}

bool vnni_channel_lanes_suit(int64_t cols, int64_t computed_cols, CoreLoads loads) {
  // At most 4 column blocks: the column tiles then run as 2 + 2 (one weight broadcast per two
  // vpdpbusd) and compute the extended columns too (63 for a 7x7 map).
  if (cols <= 4 * kColTile) return true;
  // Up to 256 columns, on a core that issues three loads per cycle, the channel-lane tiles win
  // once the column tiles' waste passes ~10% (measured on Sapphire Rapids, one thread: a 3x3
  // 256-channel convolution on 14x14, 0.403 -> 0.374 ms); below it they lose (a 1x1 on 14x14,
  // 208 columns for 196: 0.202 -> 0.208 ms), and on large maps they lose by far. With two
  // loads per cycle their 12-column tiles (26 loads per 24 vpdpbusd) wait on loads: on Ice Lake
  // server, resnet50's 14x14 3x3 layers ran 17% (one thread) and 22% (two) faster on the column
  // tiles in paired runs. Its 7x7 stage, above, came out even either way (0.98-1.05x). The
  // 64-row tiles (17 loads per 24) did not change that: forced onto resnet50's 14x14 layers
  // they ran 17-30% slower than the column tiles there, while its 7x7 stage gained 5-16%.
  // On Zen 5, whose narrow loads never hold the broadcasts up, they win on every map up to 256
  // pixels: resnet50's 1x1 layers on 14x14 ran 4-6% faster (one and two threads, alternating
  // runs), its 1x1 layers on 28x28 (784 columns) 7-28% slower.
  if (loads == CoreLoads::four_narrow) return cols <= 256;
  return loads == CoreLoads::three && cols <= 256 && round_up(computed_cols, kColTile) * 10 > cols * 11;
}

PackedWeights pack_conv_weights(const Conv2dShape& s, const int8_t* weights, int64_t rows, bool vnni,
                                VnniTiles tiles) {
  const bool pointwise = s.kernel_h == 1 && s.kernel_w == 1 && s.stride_h == 1 && s.stride_w == 1 &&
                         s.pad_top == 0 && s.pad_left == 0 && s.out_h == s.in_h && s.out_w == s.in_w;
  const bool channel_lanes =
      tiles == VnniTiles::channel_lanes ||
      (tiles == VnniTiles::by_shape &&
       vnni_channel_lanes_suit(s.out_h * s.out_w, conv_panel_columns(s), cpu_core_loads()));
  if (!vnni || pointwise)
    return pack_weights(weights, rows, s.in_channels / s.groups * s.kernel_h * s.kernel_w, vnni, channel_lanes);
  const std::vector<int8_t> reordered = reorder_weights_to_channel_quads(s, weights, rows);
  PackedWeights packed = pack_weights(reordered.data(), rows, channel_quad_depth(s), true, channel_lanes);
  packed.channel_quads = true;
  return packed;
}

RowOutputStage make_row_output_stage(const PackedWeights& w, int32_t input_zero_point,
                                     const QuantizedOutputStage& stage) {
  RowOutputStage s;
  // 8 spare rows: vector code may load 8 rows' parameters from any row below padded_rows.
  const size_t n = static_cast<size_t>(w.padded_rows + 8);
  s.bias.assign(n, 0);
  s.multiplier.assign(n, 0);
  s.left.assign(n, 0);
  s.right.assign(n, 0);
  s.rounding_offset.assign(n, 0);
  s.negative_drop.assign(n, 0);
  s.product_shift.assign(n, 31);
  s.zero_point_after.assign(n, 0);
  for (int64_t r = 0; r < w.rows; ++r) {
    const size_t i = static_cast<size_t>(r);
    // sum (x - zp) w = sum u w - (128 + zp) sum w, with u = x + 128.
    s.bias[i] = (stage.bias ? stage.bias[r] : 0) - (128 + input_zero_point) * w.row_sums[i];
    const QuantizedMultiplier& m = stage.multiplier(r);
    s.multiplier[i] = m.multiplier;
    s.left[i] = m.shift > 0 ? m.shift : 0;
    s.right[i] = m.shift > 0 ? 0 : -m.shift;
    const OneStepRounding one_step = one_step_rounding(m, stage.output_zero_point);
    s.rounding_offset[i] = one_step.offset;
    // Where the clamp's floor is at or above the zero point (a fused ReLU), a negative product
    // lands at or below the zero point with or without the drop (both roundings of a negative
    // value are <= 0), so the floor decides and the epilogues skip the drop's two instructions.
    s.negative_drop[i] = stage.low >= stage.output_zero_point ? 0 : one_step.negative_drop;
    s.product_shift[i] = one_step.shift;
    s.zero_point_after[i] = one_step.zero_point_after;
  }
  s.output_zero_point = stage.output_zero_point;
  s.low = stage.low;
  s.high = stage.high;
  return s;
}

size_t panel_bytes(const PackedWeights& w, int64_t cols) {
  return static_cast<size_t>(round_up(cols, kColTile) * w.padded_depth);
}

namespace {

// One K quad: rows row[0..3] (nullptr = zero) into the quad's 64-byte slots, `quads` apart.
void interleave_quad(const int8_t* const* row, int64_t cols, int64_t quads, int64_t q, uint8_t* panel) {
  const __m128i flip = _mm_set1_epi8(static_cast<char>(0x80));  // x + 128 == x ^ 0x80 on bytes
  const __m128i zero_row = _mm_setzero_si128();
  // The last, partial block goes through a zero-padded copy of its columns so it takes the
  // same vector path (a scalar loop here cost more than the GEMM on 7x7 feature maps).
  const int64_t blocks = (cols + kColTile - 1) / kColTile;
  int64_t cb = 0;
  // Two full blocks per step on 256 bits: unpack works within 128-bit lanes, so lane 0 yields
  // block cb and lane 1 block cb + 1; permute2x128 regroups them.
  for (; (cb + 2) * kColTile <= cols; cb += 2) {
    __m256i v[4];
    for (int r = 0; r < 4; ++r)
      v[r] = row[r] ? _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row[r] + cb * kColTile)),
                                       _mm256_set1_epi8(static_cast<char>(0x80)))
                    : _mm256_setzero_si256();
    const __m256i ab_lo = _mm256_unpacklo_epi8(v[0], v[1]), ab_hi = _mm256_unpackhi_epi8(v[0], v[1]);
    const __m256i cd_lo = _mm256_unpacklo_epi8(v[2], v[3]), cd_hi = _mm256_unpackhi_epi8(v[2], v[3]);
    const __m256i p0 = _mm256_unpacklo_epi16(ab_lo, cd_lo), p1 = _mm256_unpackhi_epi16(ab_lo, cd_lo);
    const __m256i p2 = _mm256_unpacklo_epi16(ab_hi, cd_hi), p3 = _mm256_unpackhi_epi16(ab_hi, cd_hi);
    uint8_t* first = panel + (cb * quads + q) * kColTile * 4;
    uint8_t* second = panel + ((cb + 1) * quads + q) * kColTile * 4;
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(first), _mm256_permute2x128_si256(p0, p1, 0x20));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(first + 32), _mm256_permute2x128_si256(p2, p3, 0x20));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(second), _mm256_permute2x128_si256(p0, p1, 0x31));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(second + 32), _mm256_permute2x128_si256(p2, p3, 0x31));
  }
  for (; cb < blocks; ++cb) {
    const int64_t count = std::min<int64_t>(kColTile, cols - cb * kColTile);
    alignas(16) int8_t tail[4][kColTile];
    __m128i v[4];
    for (int r = 0; r < 4; ++r) {
      if (!row[r]) {
        v[r] = zero_row;
        continue;
      }
      const int8_t* src = row[r] + cb * kColTile;
      if (count < kColTile) {
        std::memset(tail[r], -128, kColTile);  // u = 0 after the flip, as padding must be
        std::memcpy(tail[r], src, static_cast<size_t>(count));
        src = tail[r];
      }
      v[r] = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src)), flip);
    }
    // Byte-interleave 4 rows: [c0k0 c0k1 c0k2 c0k3 c1k0 ...].
    const __m128i ab_lo = _mm_unpacklo_epi8(v[0], v[1]), ab_hi = _mm_unpackhi_epi8(v[0], v[1]);
    const __m128i cd_lo = _mm_unpacklo_epi8(v[2], v[3]), cd_hi = _mm_unpackhi_epi8(v[2], v[3]);
    uint8_t* dst = panel + (cb * quads + q) * kColTile * 4;
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), _mm_unpacklo_epi16(ab_lo, cd_lo));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 16), _mm_unpackhi_epi16(ab_lo, cd_lo));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 32), _mm_unpacklo_epi16(ab_hi, cd_hi));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 48), _mm_unpackhi_epi16(ab_hi, cd_hi));
  }
}

// Interleaves K rows of `cols` int8 values (row k at rows[k]) into the panel layout
// [col blocks of 16][K/4][16 cols][4 k] as u = x + 128. Rows at or past `depth` (padding up to a
// multiple of 4) are zero; columns past `cols` (padding up to 16) are zero. Threads split the K
// quads: each writes its own part of the panel. `panel` need not be aligned (channel-quad
// planes store rows at any offset).
void interleave_rows(const int8_t* const* rows, int64_t depth, int64_t cols, int64_t padded_depth, uint8_t* panel,
                     int threads, bool avx512) {
  if (avx512) {
    avx512::interleave_rows_to_panel_avx512(rows, depth, cols, padded_depth, panel, threads);
    return;
  }
  const int64_t quads = padded_depth / 4;
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1 && quads * cols >= (1 << 16))
  for (int64_t q = 0; q < quads; ++q) {
    const int8_t* row[4];
    for (int r = 0; r < 4; ++r) row[r] = 4 * q + r < depth ? rows[4 * q + r] : nullptr;
    interleave_quad(row, cols, quads, q, panel);
  }
}

bool is_pointwise(const Conv2dShape& s) {
  return s.kernel_h == 1 && s.kernel_w == 1 && s.stride_h == 1 && s.stride_w == 1 && s.pad_top == 0 &&
         s.pad_left == 0 && s.out_h == s.in_h && s.out_w == s.in_w;
}

// A pointwise convolution's GEMM rows: its input planes already are the [K][P] matrix, so row k
// of one group is channel plane k. Per thread (valid until this thread's next call).
const int8_t* const* pointwise_rows(const Conv2dShape& s, const int8_t* image, int64_t group) {
  const int64_t depth = s.in_channels / s.groups, cols = s.out_h * s.out_w;
  thread_local std::vector<const int8_t*> rows;
  rows.resize(static_cast<size_t>(depth));
  for (int64_t k = 0; k < depth; ++k) rows[static_cast<size_t>(k)] = image + (group * depth + k) * cols;
  return rows.data();
}

// Scratch buffers per thread: the kernels are shared (const) across sessions and threads.
template <int Slot>
uint8_t* scratch(size_t bytes) {
  thread_local std::vector<uint8_t> buffer;
  if (buffer.size() < bytes + 64) buffer.assign(bytes + 64, 0);
  return reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(buffer.data()) + 63) & ~uintptr_t{63});
}

}  // namespace

int64_t conv_panel_columns(const Conv2dShape& s) {
  return is_pointwise(s) ? s.out_h * s.out_w : phase_plane_columns(s);
}

void pack_conv_panel(const Conv2dShape& s, const int8_t* image, int64_t group, int32_t input_zero_point,
                     int64_t padded_depth, uint8_t* panel, int threads, bool avx512) {
  const int64_t depth = s.in_channels / s.groups * s.kernel_h * s.kernel_w;
  if (is_pointwise(s)) {
    interleave_rows(pointwise_rows(s, image, group), depth, s.out_h * s.out_w, padded_depth, panel, threads, avx512);
    return;
  }
  thread_local std::vector<const int8_t*> rows;
  rows.resize(static_cast<size_t>(depth));
  int8_t* planes = reinterpret_cast<int8_t*>(scratch<1>(phase_plane_bytes(s)));
  phase_plane_rows_s8(s, image, group, static_cast<int8_t>(input_zero_point), planes, rows.data(), threads);
  interleave_rows(rows.data(), depth, phase_plane_columns(s), padded_depth, panel, threads, avx512);
}

void gemm_packed(const PackedWeights& w, const RowOutputStage& s, const uint8_t* panel, int64_t cols, int8_t* out,
                 int64_t row_stride, int threads) {
  if (w.channel_lanes) {  // column col of K quad q: 4 bytes in the panel's block of 16 columns
    const int64_t quads = w.padded_depth / 4;
    thread_local std::vector<const uint8_t*> quad_rows;
    thread_local std::vector<int64_t> offsets;
    quad_rows.resize(static_cast<size_t>(quads));
    offsets.resize(static_cast<size_t>(cols));
    for (int64_t q = 0; q < quads; ++q) quad_rows[static_cast<size_t>(q)] = panel + q * kColTile * 4;
    for (int64_t col = 0; col < cols; ++col)
      offsets[static_cast<size_t>(col)] = (col / kColTile) * w.padded_depth * kColTile + (col % kColTile) * 4;
    avx512::qgemm_channel_lanes_vnni(w, s, quad_rows.data(), offsets.data(), cols, out, row_stride, threads);
    return;
  }
  if (w.vnni) {  // packed for the AVX-512-VNNI tiles: same layouts, wider registers, larger tiles
    avx512::qgemm_packed_vnni(w, s, panel, cols, out, row_stride, threads);
    return;
  }
  const int64_t row_blocks = w.padded_rows / kRowTile;
  const int64_t col_blocks = round_up(cols, kColTile) / kColTile;
  const int64_t tiles = row_blocks * col_blocks;
  const int64_t block_bytes = w.padded_depth * kColTile;
  // Column blocks outermost: consecutive tiles reuse the same activation block from L1. Small
  // products stay on one thread: waking a team costs more than it saves there.
  const bool parallel = threads > 1 && tiles >= 2 * threads && w.padded_rows * w.padded_depth * cols >= (1 << 18);
#pragma omp parallel for schedule(static) num_threads(threads) if (parallel)
  for (int64_t t = 0; t < tiles; ++t) {
    const int64_t cb = t / row_blocks, rb = t % row_blocks;
    const int64_t col = cb * kColTile, row = rb * kRowTile;
    int8_t* dst = out + row * row_stride + col;
    if (w.split)
      tile_4x16<true>(w, s, panel + cb * block_bytes, rb, w.rows - row, cols - col, dst, row_stride);
    else
      tile_4x16<false>(w, s, panel + cb * block_bytes, rb, w.rows - row, cols - col, dst, row_stride);
  }
}

namespace {

// Columns j in [begin, end) of a phase-plane row: row[j] = src[j * stride] (src already offset
// to the row's first tap; src_len bytes readable from it). Only the VNNI path builds these
// planes, so the CPU has AVX-512BW: stride 2 reads 64 source bytes per step with a masked load
// (exact at the row's end, no byte loop and no padded copy: rows of ResNet's stride-2 maps are
// 7 to 57 bytes) and keeps the low byte of each 16-bit word.
__attribute__((target("avx2,avx512f,avx512bw,avx512vl"))) void gather_columns(const int8_t* src, int64_t stride,
                                                                               int64_t begin, int64_t end,
                                                                               int64_t src_len, int8_t* row) {
  if (stride == 1) {
    std::memcpy(row + begin, src + begin, static_cast<size_t>(end - begin));
    return;
  }
  int64_t j = begin;
  if (stride == 2) {
    for (; j < end; j += 32) {
      const int64_t readable = std::min<int64_t>(64, src_len - 2 * j), count = std::min<int64_t>(32, end - j);
      const __mmask64 in_mask = readable >= 64 ? ~__mmask64{0} : (__mmask64{1} << readable) - 1;
      const __m512i words = _mm512_maskz_loadu_epi8(in_mask, src + 2 * j);
      const __mmask32 out_mask = static_cast<__mmask32>((uint64_t{1} << count) - 1);
      // maskz: the unmasked form trips GCC 12's -Wmaybe-uninitialized inside its own header.
      _mm256_mask_storeu_epi8(row + j, out_mask, _mm512_maskz_cvtepi16_epi8(out_mask, words));
    }
    return;
  }
  for (; j < end; ++j) row[j] = src[j * stride];
}

// The channel-quad planes of one image and group (kernels/phase_planes_s8.hpp), built straight
// from the input: per plane row, the 4 channels' padded rows are gathered into a small buffer
// and byte-interleaved ([positions][4], u = x + 128). Returns the pointer of every K quad.
// Each plane is followed by 16 spare positions: a row's last 16-position block may spill into
// the next row (rewritten next, by the same thread) or, for the last row, into that spare room.
const uint8_t* const* pack_channel_quad_planes(const Conv2dShape& s, const int8_t* image, int64_t group,
                                               int32_t input_zero_point, int threads) {
  const int64_t channels = s.in_channels / s.groups, quads_of_channels = (channels + 3) / 4;
  const int64_t phases = s.stride_h * s.stride_w;
  const int64_t width = phase_plane_width(s), height = phase_plane_height(s), plane = width * height;
  const int64_t quad_plane_bytes = round_up((plane + kColTile) * 4, 64);
  const int64_t row_capacity = round_up(width, kColTile);
  // Slack after the last plane: the GEMM reads whole column tiles past the last column.
  uint8_t* quad_planes = scratch<5>(static_cast<size_t>(quads_of_channels * phases * quad_plane_bytes + 64 * 64));
  bool used[64] = {};
  for (int64_t ky = 0; ky < s.kernel_h; ++ky)
    for (int64_t kx = 0; kx < s.kernel_w; ++kx)
      if (phases <= 64) used[(ky * s.dilation_h % s.stride_h) * s.stride_w + kx * s.dilation_w % s.stride_w] = true;
  const int8_t pad = static_cast<int8_t>(input_zero_point);
  const int64_t jobs = quads_of_channels * phases;
#pragma omp parallel num_threads(threads) if (threads > 1 && jobs > 1 && jobs * plane >= (1 << 12))
  {
    thread_local std::vector<int8_t> rows_buffer;
    rows_buffer.resize(static_cast<size_t>(4 * row_capacity));
#pragma omp for schedule(static)
    for (int64_t job = 0; job < jobs; ++job) {
      const int64_t c4 = job / phases, phase = job % phases, py = phase / s.stride_w, px = phase % s.stride_w;
      if (phases <= 64 && !used[phase]) continue;
      const int64_t live = std::min<int64_t>(4, channels - 4 * c4);  // channels past C read as zero
      uint8_t* dst = quad_planes + job * quad_plane_bytes;
      const int8_t* quad_channels[4] = {nullptr, nullptr, nullptr, nullptr};
      for (int64_t r = 0; r < live; ++r) quad_channels[r] = image + (group * channels + 4 * c4 + r) * s.in_h * s.in_w;
      avx512::ChannelQuadPlaneShape plane_shape;
      plane_shape.in_h = s.in_h;
      plane_shape.in_w = s.in_w;
      plane_shape.stride_h = s.stride_h;
      plane_shape.stride_w = s.stride_w;
      plane_shape.row_offset = py - s.pad_top;
      plane_shape.column_offset = px - s.pad_left;
      plane_shape.height = height;
      plane_shape.width = width;
      if (s.stride_w == 2 && phases <= 64 && (px == 0 || !used[phase - 1])) {  // phases px = 0, 1 in one pass
        uint8_t* even = used[phase - px] ? dst - px * quad_plane_bytes : nullptr;
        uint8_t* odd = used[phase - px + 1] ? dst + (1 - px) * quad_plane_bytes : nullptr;
        plane_shape.column_offset = -s.pad_left;
        if (avx512::channel_quad_phase_pair_avx512(plane_shape, quad_channels, pad, even, odd)) continue;
        plane_shape.column_offset = px - s.pad_left;
      } else if (s.stride_w == 2 && phases <= 64 && width <= 32) {
        continue;  // written by the px = 0 job of this row phase
      }
      if (avx512::channel_quad_plane_avx512(plane_shape, quad_channels, pad, dst)) continue;
      int64_t begin, end;
      valid_output_columns(width, s.stride_w, px - s.pad_left, s.in_w, begin, end);
      for (int64_t i = 0; i < height; ++i) {
        const int64_t iy = i * s.stride_h + py - s.pad_top;
        const int8_t* rows[4] = {nullptr, nullptr, nullptr, nullptr};
        for (int64_t r = 0; r < live; ++r) {
          int8_t* row = rows_buffer.data() + r * row_capacity;
          rows[r] = row;
          if (iy < 0 || iy >= s.in_h) {
            std::memset(row, pad, static_cast<size_t>(row_capacity));
            continue;
          }
          std::memset(row, pad, static_cast<size_t>(begin));
          const int8_t* src = image + ((group * channels + 4 * c4 + r) * s.in_h + iy) * s.in_w;
          gather_columns(src + px - s.pad_left, s.stride_w, begin, end, s.in_w - (px - s.pad_left), row);
          std::memset(row + end, pad, static_cast<size_t>(row_capacity - end));
        }
        interleave_quad(rows, row_capacity, 1, 0, dst + i * width * 4);
      }
    }
  }
  thread_local std::vector<const uint8_t*> quad_rows;
  quad_rows.resize(static_cast<size_t>(quads_of_channels * s.kernel_h * s.kernel_w));
  for (int64_t c4 = 0; c4 < quads_of_channels; ++c4)
    for (int64_t ky = 0; ky < s.kernel_h; ++ky)
      for (int64_t kx = 0; kx < s.kernel_w; ++kx) {
        const int64_t ty = ky * s.dilation_h, tx = kx * s.dilation_w;
        const int64_t phase = (ty % s.stride_h) * s.stride_w + tx % s.stride_w;
        quad_rows[static_cast<size_t>((c4 * s.kernel_h + ky) * s.kernel_w + kx)] =
            quad_planes + (c4 * phases + phase) * quad_plane_bytes + ((ty / s.stride_h) * width + tx / s.stride_w) * 4;
      }
  return quad_rows.data();
}

}  // namespace

void qconv2d_s8_avx2(const Conv2dShape& s, const int8_t* input, int32_t input_zero_point,
                     const std::vector<PackedWeights>& weights, const std::vector<RowOutputStage>& stages,
                     int8_t* output, int threads) {
  const int64_t pixels = s.out_h * s.out_w;
  const int64_t cols = conv_panel_columns(s);  // > pixels: extended columns, compacted below
  const int64_t out_per_group = s.out_channels / s.groups;
  for (int64_t n = 0; n < s.batch; ++n) {
    const int8_t* image = input + n * s.in_channels * s.in_h * s.in_w;
    for (int64_t g = 0; g < s.groups; ++g) {
      const PackedWeights& w = weights[static_cast<size_t>(g)];
      int8_t* out = output + (n * s.out_channels + g * out_per_group) * pixels;
      if (w.channel_quads) {  // VNNI: no panel, the tiles read the channel-quad planes
        const int64_t extended_cols = phase_plane_columns(s);
        const uint8_t* const* quad_rows = pack_channel_quad_planes(s, image, g, input_zero_point, threads);
        if (w.channel_lanes) {  // every output pixel read where it lies in the planes: no compaction
          thread_local std::vector<int64_t> offsets;
          offsets.resize(static_cast<size_t>(pixels));
          const int64_t width = phase_plane_width(s);
          for (int64_t p = 0; p < pixels; ++p) offsets[static_cast<size_t>(p)] = ((p / s.out_w) * width + p % s.out_w) * 4;
          avx512::qgemm_channel_lanes_vnni(w, stages[static_cast<size_t>(g)], quad_rows, offsets.data(), pixels, out,
                                           pixels, threads);
          continue;
        }
        if (extended_cols == pixels) {  // 1x1 stride 1 (or padding that adds no column): no compaction
          avx512::qgemm_quad_rows_vnni(w, stages[static_cast<size_t>(g)], quad_rows, pixels, out, pixels, threads);
          continue;
        }
        if (phase_plane_width(s) >= kColTile) {  // kept columns stored straight into `out`
          const avx512::ExtendedColumns columns{phase_plane_width(s), s.out_w};
          avx512::qgemm_quad_rows_vnni(w, stages[static_cast<size_t>(g)], quad_rows, extended_cols, out, pixels,
                                       threads, &columns);
          continue;
        }
        int8_t* extended = reinterpret_cast<int8_t*>(scratch<2>(static_cast<size_t>(w.rows * extended_cols)));
        avx512::qgemm_quad_rows_vnni(w, stages[static_cast<size_t>(g)], quad_rows, extended_cols, extended,
                                     extended_cols, threads);
        compact_extended_columns_s8(s, w.rows, extended, out, threads);
        continue;
      }
      if (w.vnni && !w.channel_lanes && is_pointwise(s) &&
          avx512::qgemm_pointwise_vnni(w, stages[static_cast<size_t>(g)], pointwise_rows(s, image, g),
                                       s.in_channels / s.groups, pixels, out, pixels, threads))
        continue;
      uint8_t* panel = scratch<0>(panel_bytes(w, cols));
      pack_conv_panel(s, image, g, input_zero_point, w.padded_depth, panel, threads, w.vnni);
      if (cols == pixels) {
        gemm_packed(w, stages[static_cast<size_t>(g)], panel, cols, out, cols, threads);
      } else {
        int8_t* extended = reinterpret_cast<int8_t*>(scratch<2>(static_cast<size_t>(w.rows * cols)));
        gemm_packed(w, stages[static_cast<size_t>(g)], panel, cols, extended, cols, threads);
        compact_extended_columns_s8(s, w.rows, extended, out, threads);
      }
    }
  }
}

namespace {

// Matrix-vector product for a single input row (a classifier's final Linear): every row block of
// the packed weights against one activation vector, 8 quads of K per 256-bit step. The vector's
// quads are pre-broadcast once ([q q q q q+1 q+1 q+1 q+1] per 32 bytes) and shared by all rows.
template <bool Split>
void gemv_rows(const PackedWeights& w, const uint8_t* broadcast, int64_t row_block, int32_t* acc4) {
  const int64_t quads = w.padded_depth / 4;
  const int8_t* wp = w.data.data() + row_block * quads * 16;
  const int8_t* lp = Split ? w.low.data() + row_block * quads * 16 : nullptr;
  const __m256i ones = _mm256_set1_epi16(1), twos = _mm256_set1_epi16(2);
  __m256i acc = _mm256_setzero_si256();
  int64_t q = 0;
  for (; q + 2 <= quads; q += 2) {
    const __m256i u = _mm256_load_si256(reinterpret_cast<const __m256i*>(broadcast + q * 16));
    const __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wp + q * 16));
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, wv), Split ? twos : ones));
    if (Split) {
      const __m256i lv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(lp + q * 16));
      acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, lv), ones));
    }
  }
  __m128i sum = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
  if (q < quads) {  // odd number of quads: the last one alone, on 128 bits
    const __m128i u = _mm_load_si128(reinterpret_cast<const __m128i*>(broadcast + q * 16));
    const __m128i wv = _mm_loadu_si128(reinterpret_cast<const __m128i*>(wp + q * 16));
    sum = _mm_add_epi32(sum, _mm_madd_epi16(_mm_maddubs_epi16(u, wv), Split ? _mm_set1_epi16(2) : _mm_set1_epi16(1)));
    if (Split) {
      const __m128i lv = _mm_loadu_si128(reinterpret_cast<const __m128i*>(lp + q * 16));
      sum = _mm_add_epi32(sum, _mm_madd_epi16(_mm_maddubs_epi16(u, lv), _mm_set1_epi16(1)));
    }
  }
  _mm_storeu_si128(reinterpret_cast<__m128i*>(acc4), sum);
}

void gemv_packed(const PackedWeights& w, const RowOutputStage& s, const int8_t* a, int8_t* out, int threads) {
  const int64_t quads = w.padded_depth / 4;
  // Each 16-byte group holds one quad of u = a + 128 repeated for the 4 rows of a block.
  uint8_t* broadcast = scratch<3>(static_cast<size_t>(quads * 16));
  const int64_t full_quads = w.depth / 4;
  const __m128i flip = _mm_set1_epi8(static_cast<char>(0x80));
  for (int64_t q = 0; q < full_quads; ++q) {
    int32_t quad;
    std::memcpy(&quad, a + 4 * q, 4);
    _mm_store_si128(reinterpret_cast<__m128i*>(broadcast + q * 16), _mm_xor_si128(_mm_set1_epi32(quad), flip));
  }
  for (int64_t q = full_quads; q < quads; ++q)  // the quad K ends in: zero past the depth
    for (int r = 0; r < 4; ++r)
      for (int j = 0; j < 4; ++j) {
        const int64_t k = 4 * q + j;
        broadcast[q * 16 + r * 4 + j] = k < w.depth ? static_cast<uint8_t>(a[k] + 128) : 0;
      }
  const int64_t row_blocks = w.padded_rows / kRowTile;
  // Scratch, not a vector: a per-call allocation showed up next to a 15 us product.
  int32_t* acc = reinterpret_cast<int32_t*>(scratch<4>(static_cast<size_t>(w.padded_rows + 8) * sizeof(int32_t)));
  const bool parallel = threads > 1 && w.padded_rows * w.padded_depth >= (1 << 18);
  if (w.vnni) {  // one call per thread's share of the row blocks: the per-block work is ~30 cycles
#pragma omp parallel num_threads(threads) if (parallel)
    {
      const int64_t parts = omp_get_num_threads(), part = omp_get_thread_num();
      avx512::qgemv_rows_vnni(w, broadcast, row_blocks * part / parts, row_blocks * (part + 1) / parts, acc);
    }
  } else {
#pragma omp parallel for schedule(static) num_threads(threads) if (parallel)
    for (int64_t rb = 0; rb < row_blocks; ++rb) {
      if (w.split) gemv_rows<true>(w, broadcast, rb, acc + rb * 4);
      else gemv_rows<false>(w, broadcast, rb, acc + rb * 4);
    }
  }
  // Requantize 8 rows at a time with per-row parameters (the stage has 8 spare rows).
  const auto load = [](const int32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); };
  for (int64_t row = 0; row < w.rows; row += 8) {
    const size_t r = static_cast<size_t>(row);
    const LaneRequant lanes{load(s.multiplier.data() + r), load(s.left.data() + r), load(s.right.data() + r)};
    __m256i v = _mm256_add_epi32(load(acc + row), load(s.bias.data() + r));
    v = _mm256_add_epi32(multiply_by_quantized_multiplier(v, lanes), _mm256_set1_epi32(s.output_zero_point));
    v = _mm256_min_epi32(_mm256_max_epi32(v, _mm256_set1_epi32(s.low)), _mm256_set1_epi32(s.high));
    const __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    const __m128i bytes = _mm_packs_epi16(words, words);
    if (w.rows - row >= 8) {
      _mm_storel_epi64(reinterpret_cast<__m128i*>(out + row), bytes);
    } else {
      alignas(16) int8_t tail[16];
      _mm_store_si128(reinterpret_cast<__m128i*>(tail), bytes);
      std::memcpy(out + row, tail, static_cast<size_t>(w.rows - row));
    }
  }
}

}  // namespace

void qgemm_s8_avx2(int64_t m, const int8_t* a, int32_t a_zero_point, const PackedWeights& w,
                   const RowOutputStage& stage, int8_t* output, int threads) {
  // Columns are the m input rows: pack a^T, compute out^T [n][m], transpose into [m][n].
  if (m == 1 && !w.channel_lanes) {  // the matrix-vector path reads the 4-row blocks
    gemv_packed(w, stage, a, output, threads);
    return;
  }
  const int64_t quads = w.padded_depth / 4;
  uint8_t* panel = scratch<0>(panel_bytes(w, m));
  std::memset(panel, 0, panel_bytes(w, m));
  for (int64_t col = 0; col < m; ++col)
    for (int64_t k = 0; k < w.depth; ++k)
      panel[(((col / kColTile) * quads + k / 4) * kColTile + col % kColTile) * 4 + k % 4] =
          static_cast<uint8_t>(a[col * w.depth + k] + 128);
  std::vector<int8_t> transposed(static_cast<size_t>(w.rows * m));
  gemm_packed(w, stage, panel, m, transposed.data(), m, threads);
  for (int64_t r = 0; r < w.rows; ++r)
    for (int64_t col = 0; col < m; ++col) output[col * w.rows + r] = transposed[static_cast<size_t>(r * m + col)];
  (void)a_zero_point;  // folded into stage.bias by make_row_output_stage
}

}  // namespace octet::kernels::avx2
