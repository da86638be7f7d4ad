#include "kernels/avx512/qgemm_s8_avx512_vnni.hpp"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/affinity_schedule.hpp"
#include "kernels/avx512/panel_interleave_avx512.hpp"
#include "kernels/avx512/requantize_avx512.hpp"

namespace octet::kernels::avx512 {
namespace {

using avx2::kColTile;
using avx2::kRowTile;
using avx2::PackedWeights;
using avx2::RowOutputStage;

constexpr int kMaxRowBlocks = 2;  // 8 rows
constexpr int kMaxColBlocks = 3;  // 48 columns

// One row's quad of 4 weights in every lane; GCC folds it into vpdpbusd's {1to16} broadcast.
inline __m512i broadcast_quad(const int8_t* p) {
  int32_t value;
  std::memcpy(&value, p, 4);
  return _mm512_set1_epi32(value);
}

// One tile row's ColBlocks x 16 results as bytes in column order (lanes past 16 ColBlocks
// undefined): packed with saturation, which is the int8 clamp; a fused activation's bounds
// inside [-128, 127] clamp the bytes.
template <int ColBlocks>
inline __m512i packed_tile_row(const __m512i* acc, const LaneOutputStage& stage, const RowOutputStage& s) {
  const __m512i first = requantize_lanes_unclamped(acc[0], stage);
  const __m512i second = ColBlocks >= 2 ? requantize_lanes_unclamped(acc[1], stage) : first;
  __m512i bytes = pack_rows_of_three(first, second, ColBlocks == 3 ? requantize_lanes_unclamped(acc[2], stage) : first);
  if (s.low > -128) bytes = _mm512_max_epi8(bytes, _mm512_set1_epi8(static_cast<char>(s.low)));
  if (s.high < 127) bytes = _mm512_min_epi8(bytes, _mm512_set1_epi8(static_cast<char>(s.high)));
  return bytes;
}

// Requantizes one tile row (ColBlocks x 16 accumulators, the bias already in them) and stores
// its first `cols_left` results. The row's parameters are broadcast once for all its blocks,
// and the rounding-divide constants derived once: this epilogue runs once per 16 outputs.
template <int ColBlocks, bool Full>
inline void store_tile_row(const __m512i* acc, const RowOutputStage& s, int64_t row, int8_t* out, int64_t cols_left) {
  const size_t r = static_cast<size_t>(row);
  const LaneOutputStage stage =
      broadcast_output_stage(s.multiplier[r], s.left[r], s.rounding_offset[r], s.negative_drop[r], s.product_shift[r],
                             s.zero_point_after[r], s.low, s.high);
  if (Full && ColBlocks >= 2) {  // every column inside: packed together, one store, no masks
    _mm512_mask_storeu_epi32(out, static_cast<__mmask16>((1u << (4 * ColBlocks)) - 1),
                             packed_tile_row<ColBlocks>(acc, stage, s));
    return;
  }
  if (Full) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm512_cvtepi32_epi8(requantize_lanes(acc[0], stage)));
    return;
  }
#pragma GCC unroll 3
  for (int c = 0; c < ColBlocks; ++c) {
    const int64_t count = std::min<int64_t>(cols_left - c * kColTile, kColTile);
    if (count <= 0) break;
    _mm_mask_storeu_epi8(out + c * kColTile, static_cast<__mmask16>((uint32_t{1} << count) - 1),
                         _mm512_cvtepi32_epi8(requantize_lanes(acc[c], stage)));
  }
}

// Where a tile's up to 48 extended columns go in a compact output row: one masked store of the
// row's packed bytes per output row they touch (at most 4 when rows are 16 or more wide).
struct StoreSegments {
  int count = 0;
  int64_t offset[4];  // added to the output row's start, for the tile's lane 0
  __mmask64 lanes[4];
};

// Requantizes one tile row like store_tile_row and scatters it by `segments`.
template <int ColBlocks>
inline void store_tile_row_segments(const __m512i* acc, const RowOutputStage& s, int64_t row, int8_t* out_row,
                                    const StoreSegments& segments) {
  const size_t r = static_cast<size_t>(row);
  const LaneOutputStage stage =
      broadcast_output_stage(s.multiplier[r], s.left[r], s.rounding_offset[r], s.negative_drop[r], s.product_shift[r],
                             s.zero_point_after[r], s.low, s.high);
  const __m512i bytes = packed_tile_row<ColBlocks>(acc, stage, s);
  for (int k = 0; k < segments.count; ++k) _mm512_mask_storeu_epi8(out_row + segments.offset[k], segments.lanes[k], bytes);
}

// Column block c of quad q is the 64 bytes at quad_rows[q] + c * block_stride: a packed panel
// (quad_rows[q] = panel + 64 q, block_stride = the panel's block size) or channel-quad planes
// (quad_rows[q] = the tap's plane position, block_stride = 64).
template <int RowBlocks, int ColBlocks>
void tile(const PackedWeights& w, const RowOutputStage& s, const uint8_t* const* quad_rows, int64_t block_offset,
          int64_t block_stride, int64_t row_block, int64_t rows_left, int64_t cols_left, int8_t* out,
          int64_t row_stride, const StoreSegments* segments) {
  const int64_t quads = w.padded_depth / 4;
  const int8_t* wp = w.data.data() + row_block * quads * 16;
  // The accumulators start from the bias.
  __m512i acc[RowBlocks * 4][ColBlocks];
#pragma GCC unroll 8
  for (int r = 0; r < RowBlocks * 4; ++r)
#pragma GCC unroll 3
    for (int c = 0; c < ColBlocks; ++c) {
      acc[r][c] = _mm512_set1_epi32(s.bias[static_cast<size_t>(row_block * kRowTile + r)]);
      // Opaque to the compiler: otherwise GCC keeps one register for a row's equal starting
      // values and copies it into the loop's accumulators every iteration (8 extra moves and 2
      // stack stores per 24 vpdpbusd, on the ports vpdpbusd needs).
      asm("" : "+v"(acc[r][c]));
    }
  for (int64_t q = 0; q < quads; ++q) {
    __m512i a[ColBlocks];
    const uint8_t* columns = quad_rows[q] + block_offset;
#pragma GCC unroll 3
    for (int c = 0; c < ColBlocks; ++c)
      a[c] = _mm512_loadu_si512(reinterpret_cast<const void*>(columns + c * block_stride));
#pragma GCC unroll 2
    for (int b = 0; b < RowBlocks; ++b) {
      const int8_t* quad = wp + (b * quads + q) * 16;
#pragma GCC unroll 4
      for (int r = 0; r < 4; ++r) {
        const __m512i wb = broadcast_quad(quad + 4 * r);
#pragma GCC unroll 3
        for (int c = 0; c < ColBlocks; ++c) acc[b * 4 + r][c] = _mm512_dpbusd_epi32(acc[b * 4 + r][c], a[c], wb);
      }
    }
  }
  // Constant indices here too: one runtime index would force the whole array to the stack.
  if (segments != nullptr) {  // `out` is the tile's first output row
#pragma GCC unroll 8
    for (int r = 0; r < RowBlocks * 4; ++r) {
      if (r >= rows_left) break;
      store_tile_row_segments<ColBlocks>(acc[r], s, row_block * kRowTile + r, out + r * row_stride, *segments);
    }
    return;
  }
  if (rows_left >= RowBlocks * 4 && cols_left >= ColBlocks * kColTile) {
#pragma GCC unroll 8
    for (int r = 0; r < RowBlocks * 4; ++r)
      store_tile_row<ColBlocks, true>(acc[r], s, row_block * kRowTile + r, out + r * row_stride, cols_left);
    return;
  }
#pragma GCC unroll 8
  for (int r = 0; r < RowBlocks * 4; ++r) {
    if (r >= rows_left) break;
    store_tile_row<ColBlocks, false>(acc[r], s, row_block * kRowTile + r, out + r * row_stride, cols_left);
  }
}

using TileFn = void (*)(const PackedWeights&, const RowOutputStage&, const uint8_t* const*, int64_t, int64_t,
                        int64_t, int64_t, int64_t, int8_t*, int64_t, const StoreSegments*);

// tile_for[row blocks - 1][column blocks - 1]: the edge tiles are the same code, smaller.
constexpr TileFn tile_for[kMaxRowBlocks][kMaxColBlocks] = {{tile<1, 1>, tile<1, 2>, tile<1, 3>},
                                                           {tile<2, 1>, tile<2, 2>, tile<2, 3>}};

// The segments of extended columns [col, end) (see StoreSegments), `width` of them per row of
// which the first `kept` are outputs.
StoreSegments segments_of(int64_t col, int64_t end, int64_t width, int64_t kept) {
  StoreSegments segments;
  for (int64_t y = col / width; y * width < end && segments.count < 4; ++y) {
    const int64_t first = std::max(col, y * width) - col, last = std::min(end, y * width + kept) - col;
    if (last <= first) continue;
    const uint64_t below_last = last >= 64 ? ~uint64_t{0} : (uint64_t{1} << last) - 1;
    segments.lanes[segments.count] = below_last & ~((uint64_t{1} << first) - 1);
    segments.offset[segments.count] = col - y * (width - kept);  // extended column c -> output c - y (width - kept)
    ++segments.count;
  }
  return segments;
}

// quad_rows[q] = panel + 64 q for every K quad of a packed panel: column block c of quad q is
// then the 64 bytes at quad_rows[q] + c * block stride.
const uint8_t* const* panel_quad_rows(std::vector<const uint8_t*>& quad_rows, const uint8_t* panel, int64_t quads) {
  quad_rows.resize(static_cast<size_t>(quads));
  for (int64_t q = 0; q < quads; ++q) quad_rows[static_cast<size_t>(q)] = panel + q * 64;
  return quad_rows.data();
}

// A pointwise convolution's K input rows (row k at rows[k], `cols` values each), packed per run
// of column tiles by the thread that computes them (see gemm_tiles).
struct RowSource {
  const int8_t* const* rows;
  int64_t depth;
};

void gemm_tiles(const PackedWeights& w, const RowOutputStage& s, const uint8_t* const* quad_rows,
                int64_t block_stride, int64_t cols, int8_t* out, int64_t row_stride, int threads,
                const ExtendedColumns* extended = nullptr, const RowSource* source = nullptr) {
  const int64_t row_blocks = w.padded_rows / kRowTile;
  const int64_t col_blocks = (cols + kColTile - 1) / kColTile;
  const int64_t row_tiles = (row_blocks + kMaxRowBlocks - 1) / kMaxRowBlocks;
  // Column tiles of 3 blocks; a remainder of 1 block becomes 2 + 2 instead (a 1-block tile is
  // bound by its 8 weight broadcasts per 8 products: ResNet's 7x7 maps have 4 blocks).
  const bool two_twos = col_blocks % kMaxColBlocks == 1 && col_blocks > kMaxColBlocks;
  const int64_t full_tiles = col_blocks / kMaxColBlocks - (two_twos ? 1 : 0);
  const int64_t col_tiles = full_tiles + (two_twos ? 2 : (col_blocks % kMaxColBlocks != 0 ? 1 : 0));
  const auto column_tile = [&](int64_t ct, int64_t& first_block, int64_t& blocks) {
    if (ct < full_tiles) {
      first_block = ct * kMaxColBlocks;
      blocks = kMaxColBlocks;
    } else if (two_twos) {
      first_block = full_tiles * kMaxColBlocks + (ct - full_tiles) * 2;
      blocks = 2;
    } else {
      first_block = full_tiles * kMaxColBlocks;
      blocks = col_blocks - first_block;
    }
  };
  const int64_t tiles = row_tiles * col_tiles;
  // The larger operand streams, the smaller stays in cache, and threads split the larger one so
  // each core reads only its part of it. Columns outermost when there are at least as many
  // columns as weight rows: one column tile of the activations (48 columns x K) stays in L1/L2
  // while all the (smaller) weights stream past it. Rows outermost otherwise: a tile's weights
  // (16 rows x K) stay in L1 while the activations stream, and each core streams only its half
  // of weights too big for L2 (ResNet's 7x7 layers: 512 x 4608 = 2.3 MB). Measured on the
  // ResNet-18 GEMMs, 2 threads: columns outer 3136 x 64 x 576 346 -> 208 us, 784 x 128 x 1152
  // 256 -> 196 us; rows outer 196 x 256 x 2304 207 vs 223 us, 49 x 512 x 4608 231 vs 237 us.
  // Small products stay on one thread (waking a team costs more).
  const bool columns_outer = w.padded_rows <= cols;
  const bool parallel = threads > 1 && tiles >= 2 && w.padded_rows * w.padded_depth * cols >= (1 << 18);
  // Work moves off a core slowed by another tenant of the host, so it no longer holds the other
  // one up at the join as a static split did (paired runs on this VM, ResNet-18 2 threads: 7.50
  // -> 6.14 ms and 7.18 -> 6.38 ms medians; tiles are independent, so the result is the same
  // bits). Rows outermost, a grab is a row tile's column tiles, taken dynamically. Columns
  // outermost, it is a run of neighbouring column tiles (with all their row tiles), as long as
  // every thread still gets about 8 runs: single column tiles, taken in turn by the two cores,
  // had them writing the two halves of the 64-byte lines where neighbouring 48-column tiles
  // meet, and reading the overlapping input columns twice (the stem convolution, 2 threads:
  // 0.47 -> 0.37 ms in runs of 8). The runs are handed out by kernels/affinity_schedule.hpp:
  // each thread its own share of the columns first, then the other's leftovers; the layers
  // before and after cut their columns the same way, so a core mostly reads what it wrote.
  const auto for_each_run = [&](int64_t run, const auto& body) {
    AffinitySchedule schedule((col_tiles + run - 1) / run, parallel ? threads : 1);
#pragma omp parallel num_threads(threads) if (parallel)
    {
      const int self = parallel ? omp_get_thread_num() : 0;
      for (int64_t r = 0; schedule.next(self, r);) body(r * run);
    }
  };
  // `first_block`: the column block at which tile_quad_rows' panel starts.
  const auto run_tile = [&](int64_t rt, int64_t ct, const uint8_t* const* tile_quad_rows, int64_t first_block) {
    const int64_t rb = rt * kMaxRowBlocks;
    const int64_t rbs = std::min<int64_t>(kMaxRowBlocks, row_blocks - rb);
    int64_t cb, cbs;
    column_tile(ct, cb, cbs);
    const int64_t row = rb * kRowTile, col = cb * kColTile;
    const int64_t block_offset = (cb - first_block) * block_stride;
    if (extended != nullptr) {
      const StoreSegments segments =
          segments_of(col, std::min(cols, col + cbs * kColTile), extended->width, extended->kept);
      tile_for[rbs - 1][cbs - 1](w, s, tile_quad_rows, block_offset, block_stride, rb, w.rows - row, cols - col,
                                 out + row * row_stride, row_stride, &segments);
      return;
    }
    tile_for[rbs - 1][cbs - 1](w, s, tile_quad_rows, block_offset, block_stride, rb, w.rows - row, cols - col,
                               out + row * row_stride + col, row_stride, nullptr);
  };
  // Packs columns [col, col + count) of `source` into this thread's own panel; returns its quad
  // pointers (valid until this thread's next call).
  const auto pack_own_panel = [&](int64_t col, int64_t count) -> const uint8_t* const* {
    thread_local std::vector<const int8_t*> rows;
    thread_local std::vector<const uint8_t*> own_quad_rows;
    thread_local std::vector<uint8_t> buffer;
    rows.resize(static_cast<size_t>(source->depth));
    for (int64_t k = 0; k < source->depth; ++k) rows[static_cast<size_t>(k)] = source->rows[k] + col;
    const size_t bytes = static_cast<size_t>((count + kColTile - 1) / kColTile * block_stride) + 64;
    if (buffer.size() < bytes) buffer.resize(bytes);
    uint8_t* panel = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(buffer.data()) + 63) & ~uintptr_t{63});
    interleave_rows_to_panel_avx512(rows.data(), source->depth, count, w.padded_depth, panel, 1);
    return panel_quad_rows(own_quad_rows, panel, w.padded_depth / 4);
  };
  if (columns_outer && source != nullptr) {
    // Each run of (up to 4) column tiles is packed by the thread that computes it, into a panel
    // of its own just before its tiles read it. A whole-image panel, packed by the threads in
    // static stretches and then read by dynamic grabs, had every core reading about half its
    // columns from the other core's cache (resnet50, two threads, paired runs: its 56x56 1x1
    // layers 5-19% faster this way, the model 0.98-0.99x).
    const int64_t run = std::max<int64_t>(1, std::min(col_tiles / (2 * threads), int64_t{4}));
    for_each_run(run, [&](int64_t first) {
      const int64_t last = std::min(col_tiles, first + run);
      int64_t first_block, blocks, last_block;
      column_tile(first, first_block, blocks);
      column_tile(last - 1, last_block, blocks);
      const int64_t end_block = last_block + blocks;
      const int64_t col = first_block * kColTile, run_cols = std::min(cols, end_block * kColTile) - col;
      const uint8_t* const* run_quad_rows = pack_own_panel(col, run_cols);
      for (int64_t ct = first; ct < last; ++ct)
        for (int64_t rt = 0; rt < row_tiles; ++rt) run_tile(rt, ct, run_quad_rows, first_block);
    });
    return;
  }
  if (source != nullptr) {
    // Rows outermost, every row tile reads all the columns: each thread packs the whole panel
    // for itself (twice the packing, none of it read across cores), then takes row tiles in the
    // same region (resnet50's 14x14 1x1 layers, two threads, paired runs: 2-9% faster than one
    // panel packed by both and read by both).
#pragma omp parallel num_threads(threads) if (parallel)
    {
      const uint8_t* const* own_quad_rows = pack_own_panel(0, cols);
#pragma omp for schedule(dynamic, 1)
      for (int64_t rt = 0; rt < row_tiles; ++rt)
        for (int64_t ct = 0; ct < col_tiles; ++ct) run_tile(rt, ct, own_quad_rows, 0);
    }
    return;
  }
  if (columns_outer) {
    const int64_t run = parallel ? std::max<int64_t>(1, col_tiles / (8 * threads)) : col_tiles;
    for_each_run(run, [&](int64_t first) {
      for (int64_t ct = first; ct < std::min(col_tiles, first + run); ++ct)
        for (int64_t rt = 0; rt < row_tiles; ++rt) run_tile(rt, ct, quad_rows, 0);
    });
    return;
  }
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (parallel)
  for (int64_t rt = 0; rt < row_tiles; ++rt)
    for (int64_t ct = 0; ct < col_tiles; ++ct) run_tile(rt, ct, quad_rows, 0);
}

}  // namespace

void qgemm_packed_vnni(const PackedWeights& w, const RowOutputStage& s, const uint8_t* panel, int64_t cols,
                       int8_t* out, int64_t row_stride, int threads) {
  thread_local std::vector<const uint8_t*> quad_rows;
  gemm_tiles(w, s, panel_quad_rows(quad_rows, panel, w.padded_depth / 4), w.padded_depth * kColTile, cols, out,
             row_stride, threads);
}

bool qgemm_pointwise_vnni(const PackedWeights& w, const RowOutputStage& s, const int8_t* const* rows, int64_t depth,
                          int64_t cols, int8_t* out, int64_t row_stride, int threads) {
  // One thread has no other core to keep the panel from, and packs long rows faster as one
  // stream (the K = 64 layers of resnet50 were ~3% slower packed by runs), unless the panel is
  // large: with its input it then outgrows a 1.25 MB L2 (Ice Lake server), and the tiles read
  // it back from L3 (resnet50's 56x56 K = 256 layers, one thread, paired runs there: 18%
  // faster packed by runs; K = 64 and 128, and 512 on 28x28, 1-2% slower or even).
  constexpr int64_t kPanelBytesPackedByRuns = int64_t{512} << 10;
  if (threads < 2 && w.padded_depth * cols < kPanelBytesPackedByRuns) return false;
  const RowSource source{rows, depth};
  gemm_tiles(w, s, nullptr, w.padded_depth * kColTile, cols, out, row_stride, threads, nullptr, &source);
  return true;
}

void qgemm_quad_rows_vnni(const PackedWeights& w, const RowOutputStage& s, const uint8_t* const* quad_rows,
                          int64_t cols, int8_t* out, int64_t row_stride, int threads, const ExtendedColumns* extended) {
  gemm_tiles(w, s, quad_rows, 64, cols, out, row_stride, threads, extended);
}

void qgemv_rows_vnni(const PackedWeights& w, const uint8_t* broadcast, int64_t first_block, int64_t end_block,
                     int32_t* acc) {
  const int64_t quads = w.padded_depth / 4;
  for (int64_t rb = first_block; rb < end_block; ++rb) {
    const int8_t* wp = w.data.data() + rb * quads * 16;
    // Four independent accumulators: one chain would wait on vpdpbusd's latency every 64 bytes,
    // and this loop is a stream of weights that must run at cache bandwidth.
    __m512i acc0 = _mm512_setzero_si512(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    const auto step = [&](__m512i& sum, int64_t at) {
      sum = _mm512_dpbusd_epi32(sum, _mm512_load_si512(reinterpret_cast<const void*>(broadcast + at * 16)),
                                _mm512_loadu_si512(reinterpret_cast<const void*>(wp + at * 16)));
    };
    int64_t q = 0;
    for (; q + 16 <= quads; q += 16) {
      // Prefetch 4 KB ahead (two row blocks): the weights stream through once per call.
      for (int line = 0; line < 4; ++line)
        _mm_prefetch(reinterpret_cast<const char*>(wp + q * 16 + 4096 + 64 * line), _MM_HINT_T0);
      step(acc0, q);
      step(acc1, q + 4);
      step(acc2, q + 8);
      step(acc3, q + 12);
    }
    for (; q + 4 <= quads; q += 4) step(acc0, q);
    const __m512i total = _mm512_add_epi32(_mm512_add_epi32(acc0, acc1), _mm512_add_epi32(acc2, acc3));
    // Fold the four 128-bit lanes (each holds the 4 rows' partial sums).
    const __m256i half = _mm256_add_epi32(_mm512_castsi512_si256(total), _mm512_extracti64x4_epi64(total, 1));
    __m128i sum = _mm_add_epi32(_mm256_castsi256_si128(half), _mm256_extracti128_si256(half, 1));
    for (; q < quads; ++q)
      sum = _mm_dpbusd_epi32(sum, _mm_load_si128(reinterpret_cast<const __m128i*>(broadcast + q * 16)),
                             _mm_loadu_si128(reinterpret_cast<const __m128i*>(wp + q * 16)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(acc + rb * 4), sum);
  }
}

}  // namespace octet::kernels::avx512
