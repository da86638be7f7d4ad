#include "kernels/avx512/qgemm_channel_lanes_vnni.hpp"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>
#include <vector>

#include "kernels/avx512/requantize_avx512.hpp"

namespace octet::kernels::avx512 {
namespace {

using avx2::PackedWeights;
using avx2::RowOutputStage;

constexpr int64_t kLanes = 16;  // output channels per register
// Two tile shapes, each 24 accumulators + its weight registers + the broadcast: 12 columns x 2
// blocks (32 channels) and 6 columns x 4 blocks (64 channels). Per K quad the first loads 2
// weight registers and 12 broadcasts (and 12 offsets) for 24 vpdpbusd; the second 4 and 6 (and
// 6): 17 loads where the first needs 26, which a core with two load ports per cycle feels.
constexpr int kNarrowBlocks = 2, kNarrowColumns = 12;
constexpr int kWideBlocks = 4, kWideColumns = 6;
constexpr int kTileAccumulators = 24;

// Rows of the 16 x 16 byte matrix whose columns are in[0..16): out[r] = row r. Four rounds of
// unpacks, each doubling the run of one row's bytes (2, 4, 8, 16).
inline void transpose_16x16_bytes(const __m128i (&in)[16], __m128i (&out)[16]) {
  __m128i pairs[2][8];  // [row half][column pair]: 8 rows x 2 bytes
  for (int j = 0; j < 8; ++j) {
    pairs[0][j] = _mm_unpacklo_epi8(in[2 * j], in[2 * j + 1]);
    pairs[1][j] = _mm_unpackhi_epi8(in[2 * j], in[2 * j + 1]);
  }
  __m128i quads[2][2][4];  // [row half][row quarter of the half][column quad]: 4 rows x 4 bytes
  for (int h = 0; h < 2; ++h)
    for (int m = 0; m < 4; ++m) {
      quads[h][0][m] = _mm_unpacklo_epi16(pairs[h][2 * m], pairs[h][2 * m + 1]);
      quads[h][1][m] = _mm_unpackhi_epi16(pairs[h][2 * m], pairs[h][2 * m + 1]);
    }
  for (int h = 0; h < 2; ++h)
    for (int q = 0; q < 2; ++q) {
      __m128i octets[2][2];  // [row pair][column octet]: 2 rows x 8 bytes
      for (int n = 0; n < 2; ++n) {
        octets[0][n] = _mm_unpacklo_epi32(quads[h][q][2 * n], quads[h][q][2 * n + 1]);
        octets[1][n] = _mm_unpackhi_epi32(quads[h][q][2 * n], quads[h][q][2 * n + 1]);
      }
      for (int p = 0; p < 2; ++p) {
        const int row = h * 8 + q * 4 + p * 2;
        out[row] = _mm_unpacklo_epi64(octets[p][0], octets[p][1]);
        out[row + 1] = _mm_unpackhi_epi64(octets[p][0], octets[p][1]);
      }
    }
}

// Requantizes one 16-channel block of a tile (acc[c] = channels row0..row0+15 of column c) and
// stores its Columns x 16 results into the NCHW rows row0.. of `out`.
template <int Columns>
inline void store_block(const __m512i (&acc)[Columns], const RowOutputStage& s, int64_t row0, int64_t rows,
                        int8_t* out, int64_t row_stride) {
  const size_t first = static_cast<size_t>(row0);
  const LaneOutputStage stage =
      per_lane_output_stage(s.multiplier.data() + first, s.left.data() + first, s.rounding_offset.data() + first,
                            s.negative_drop.data() + first, s.product_shift.data() + first, s.zero_point_after.data() + first,
                            s.low, s.high);
  __m128i columns[16], channel_rows[16];
#pragma GCC unroll 12
  for (int c = 0; c < Columns; ++c) columns[c] = _mm512_cvtepi32_epi8(requantize_lanes(acc[c], stage));
  for (int c = Columns; c < 16; ++c) columns[c] = _mm_setzero_si128();
  transpose_16x16_bytes(columns, channel_rows);
  const __mmask16 keep = static_cast<__mmask16>((uint32_t{1} << Columns) - 1);
  const int64_t live = std::min<int64_t>(rows - row0, kLanes);
  for (int64_t r = 0; r < live; ++r) _mm_mask_storeu_epi8(out + r * row_stride, keep, channel_rows[r]);
}

// Columns (up to 12 with 2 blocks, 6 with 4; consecutive in the output) x Blocks * 16 channels over K quads
// [q_begin, q_end). The accumulators start from the bias (first chunk of K) or from `partial`,
// and end in `partial` or, after the last chunk, requantized in `out`.
template <int Columns, int Blocks>
void tile(const PackedWeights& w, const RowOutputStage& s, const uint8_t* const* quad_rows, const int64_t* offsets,
          int64_t block, int64_t q_begin, int64_t q_end, int32_t* partial, int8_t* out, int64_t row_stride,
          const int8_t* prefetch) {
  const int64_t quads = w.padded_depth / 4;
  const int8_t* wp = w.data.data() + block * quads * 64;
  __m512i acc[Blocks][Columns];
#pragma GCC unroll 4
  for (int b = 0; b < Blocks; ++b) {
    const __m512i bias = _mm512_loadu_si512(reinterpret_cast<const void*>(s.bias.data() + (block + b) * kLanes));
#pragma GCC unroll 12
    for (int c = 0; c < Columns; ++c)
      acc[b][c] = q_begin == 0 ? bias : _mm512_loadu_si512(reinterpret_cast<const void*>(partial + (b * Columns + c) * kLanes));
  }
  // Read from memory on every use: up to 12 offsets do not fit beside the loop's other general
  // registers, and GCC then parks them in vector registers and moves them back with vmovq, on
  // the ports vpdpbusd needs. A load per broadcast costs nothing there.
  const volatile int64_t* offset = offsets;
  for (int64_t q = q_begin; q < q_end; ++q) {
    const uint8_t* base = quad_rows[q];
    __m512i weights[Blocks];
#pragma GCC unroll 4
    for (int b = 0; b < Blocks; ++b)
      weights[b] = _mm512_loadu_si512(reinterpret_cast<const void*>(wp + (b * quads + q) * 64));
    if (prefetch != nullptr)
#pragma GCC unroll 4
      for (int b = 0; b < Blocks; ++b)
        _mm_prefetch(reinterpret_cast<const char*>(prefetch + (b * quads + q - q_begin) * 64), _MM_HINT_T1);
#pragma GCC unroll 12
    for (int c = 0; c < Columns; ++c) {
      int32_t quad;
      std::memcpy(&quad, base + offset[c], 4);
      const __m512i a = _mm512_set1_epi32(quad);
#pragma GCC unroll 4
      for (int b = 0; b < Blocks; ++b) acc[b][c] = _mm512_dpbusd_epi32(acc[b][c], a, weights[b]);
    }
  }
  if (q_end < quads) {
#pragma GCC unroll 4
    for (int b = 0; b < Blocks; ++b)
#pragma GCC unroll 12
      for (int c = 0; c < Columns; ++c)
        _mm512_storeu_si512(reinterpret_cast<void*>(partial + (b * Columns + c) * kLanes), acc[b][c]);
    return;
  }
#pragma GCC unroll 4
  for (int b = 0; b < Blocks; ++b) {
    const int64_t row0 = (block + b) * kLanes;
    if (row0 >= w.rows) break;
    store_block<Columns>(acc[b], s, row0, w.rows, out + row0 * row_stride, row_stride);
  }
}

using TileFn = void (*)(const PackedWeights&, const RowOutputStage&, const uint8_t* const*, const int64_t*, int64_t,
                        int64_t, int64_t, int32_t*, int8_t*, int64_t, const int8_t*);

template <int Blocks, int... Columns>
constexpr std::array<TileFn, sizeof...(Columns)> tiles_of(std::integer_sequence<int, Columns...>) {
  return {tile<Columns + 1, Blocks>...};
}
// narrow_tile_for[blocks - 1][columns - 1], wide_tile_for likewise (fewer blocks: the last row
// tile of a row count that is not a multiple of the tile's).
const std::array<TileFn, kNarrowColumns> narrow_tile_for[kNarrowBlocks] = {
    tiles_of<1>(std::make_integer_sequence<int, kNarrowColumns>{}),
    tiles_of<2>(std::make_integer_sequence<int, kNarrowColumns>{})};
const std::array<TileFn, kWideColumns> wide_tile_for[kWideBlocks] = {
    tiles_of<1>(std::make_integer_sequence<int, kWideColumns>{}),
    tiles_of<2>(std::make_integer_sequence<int, kWideColumns>{}),
    tiles_of<3>(std::make_integer_sequence<int, kWideColumns>{}),
    tiles_of<4>(std::make_integer_sequence<int, kWideColumns>{})};

// K quads per chunk: one row tile's chunk of weights (16 KB: 2 blocks x 16 rows x 4 bytes x 128
// quads, or 4 blocks x 64 quads) and the activations it meets stay in L1 while every column
// tile passes over them.
constexpr int64_t kChunkWeightBytes = 16 * 1024;

}  // namespace

int64_t channel_lane_tile_rows(int64_t rows, int threads, CoreLoads loads) {
  const int64_t blocks = (rows + kLanes - 1) / kLanes;
  // Threads split row tiles: with more than one, at least two wide tiles each, or the narrow
  // tiles' finer split balances better.
  // Zen 5's four narrow loads per cycle feed the narrow tiles' broadcasts without waiting, and
  // there the wide tiles lost: resnet50's 7x7 layers 7-11% and its 14x14 ones ~3% slower on
  // them (one thread; the model 0.4 ms slower, alternating runs; on two threads 1%).
  const bool wide = loads != CoreLoads::four_narrow && blocks >= kWideBlocks &&
                    (threads <= 1 || blocks >= 2 * kWideBlocks * threads);
  return (wide ? kWideBlocks : kNarrowBlocks) * kLanes;
}

void qgemm_channel_lanes_vnni(const PackedWeights& w, const RowOutputStage& s, const uint8_t* const* quad_rows,
                              const int64_t* column_offsets, int64_t cols, int8_t* out, int64_t row_stride,
                              int threads) {
  if (cols <= 0) return;
  const int64_t blocks = w.padded_rows / kLanes;
  const int64_t tile_blocks_max = channel_lane_tile_rows(w.rows, threads, cpu_core_loads()) / kLanes;
  const bool wide = tile_blocks_max == kWideBlocks;
  const int64_t max_columns = wide ? kWideColumns : kNarrowColumns;
  const int64_t chunk_quads = kChunkWeightBytes / (tile_blocks_max * kLanes * 4);
  const int64_t row_tiles = (blocks + tile_blocks_max - 1) / tile_blocks_max;
  // Columns split evenly (49 = 10 + 10 + 10 + 10 + 9): every tile near the widest.
  const int64_t col_tiles = (cols + max_columns - 1) / max_columns;
  const int64_t narrow = cols / col_tiles, wide_tiles = cols % col_tiles;
  const bool parallel = threads > 1 && row_tiles >= 2 && w.padded_rows * w.padded_depth * cols >= (1 << 18);
  const int64_t quads = w.padded_depth / 4;
  constexpr int64_t kPartialValues = kTileAccumulators * kLanes;
  // Row tiles split across threads, dynamically (one per grab). Within one, K in chunks, and
  // every column tile over each chunk: the tile's weights are read from L2 once, not once per
  // column tile; the accumulators wait in `partial` between chunks.
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (parallel)
  for (int64_t rt = 0; rt < row_tiles; ++rt) {
    thread_local std::vector<int32_t> partial;
    partial.resize(static_cast<size_t>(col_tiles * kPartialValues));
    const int64_t block = rt * tile_blocks_max, tile_blocks = std::min<int64_t>(tile_blocks_max, blocks - block);
    for (int64_t q = 0; q < quads; q += chunk_quads) {
      const int64_t q_end = std::min(quads, q + chunk_quads);
      // The first column tile asks for the weights of the chunk that comes next (this row tile's
      // next K chunk, or the next row tile's first): cold weights come from L3 or memory, and
      // the load would otherwise stall the first pass over every chunk.
      const int8_t* next = nullptr;
      if (q_end < quads)
        next = w.data.data() + (block * quads + q_end) * 64;
      else if (block + tile_blocks_max < blocks)
        next = w.data.data() + (block + tile_blocks_max) * quads * 64;
      for (int64_t ct = 0; ct < col_tiles; ++ct) {
        const int64_t col = ct * narrow + std::min(ct, wide_tiles), width = narrow + (ct < wide_tiles ? 1 : 0);
        const size_t b = static_cast<size_t>(tile_blocks - 1), c = static_cast<size_t>(width - 1);
        (wide ? wide_tile_for[b][c] : narrow_tile_for[b][c])(w, s, quad_rows, column_offsets + col, block, q, q_end,
                                                             partial.data() + ct * kPartialValues, out + col,
                                                             row_stride, ct == 0 ? next : nullptr);
      }
    }
  }
}

}  // namespace octet::kernels::avx512
