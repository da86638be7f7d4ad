#pragma once
// The AVX-512-VNNI GEMM on Octet's packed layouts (kernels/avx2/qconv2d_s8_avx2.hpp): the same
// weight and activation panels as the AVX2 path, read by 512-bit vpdpbusd tiles. vpdpbusd adds
// the four u8 x s8 products of each lane straight into int32, so no int16 intermediate can
// saturate and full-range int8 weights need neither a split nor a 7-bit mode.
//
// Only call these after kernels/isa.hpp reports Isa::avx512_vnni (AVX-512 F/BW/VL + VNNI).
#include <cstdint>

#include "kernels/avx2/qconv2d_s8_avx2.hpp"

namespace octet::kernels::avx512 {

// out[row][col] for every row of `weights` and every column of the packed `panel`, rows
// `row_stride` apart, requantized by `stage`. Tiles of 8 rows x 48 columns (24 zmm
// accumulators); threads split tiles, each output is computed by one thread in a fixed order.
void qgemm_packed_vnni(const avx2::PackedWeights& weights, const avx2::RowOutputStage& stage, const uint8_t* panel,
                       int64_t cols, int8_t* out, int64_t row_stride, int threads);

// The same GEMM for a pointwise convolution straight from its K input rows (row k at rows[k],
// `cols` values each, k < depth; the packed weights' padding reads zero), on several threads:
// every thread packs the panel it reads itself (each run of column tiles it takes or, with
// more weight rows than columns, the whole panel). Returns false, doing nothing, for one
// thread and a panel under 512 KB: the caller packs the panel once.
bool qgemm_pointwise_vnni(const avx2::PackedWeights& weights, const avx2::RowOutputStage& stage,
                          const int8_t* const* rows, int64_t depth, int64_t cols, int8_t* out, int64_t row_stride,
                          int threads);

// A convolution's extended columns (kernels/phase_planes_s8.hpp): `width` per output row, the
// first `kept` of them outputs (out_w), the rest dropped.
struct ExtendedColumns {
  int64_t width = 0, kept = 0;
};

// The same GEMM reading its activations straight from channel-quad planes (kernels/
// phase_planes_s8.hpp): column block c of K quad q is the 64 bytes at quad_rows[q] + 64 c, u8.
// Reads up to 48 columns past `cols` (their results are dropped): the planes need that slack.
// With `extended` (width >= 16), `cols` are extended columns and only the kept ones are stored,
// straight into the compact rows of `out` (rows `row_stride` apart): no compaction pass.
void qgemm_quad_rows_vnni(const avx2::PackedWeights& weights, const avx2::RowOutputStage& stage,
                          const uint8_t* const* quad_rows, int64_t cols, int8_t* out, int64_t row_stride, int threads,
                          const ExtendedColumns* extended = nullptr);

// Row blocks [first_block, end_block) (4 rows each) of the packed weights against one activation
// vector pre-broadcast as [quad q for the 4 rows] per 16 bytes: acc[4 * block + r].
void qgemv_rows_vnni(const avx2::PackedWeights& weights, const uint8_t* broadcast, int64_t first_block,
                     int64_t end_block, int32_t* acc);

}  // namespace octet::kernels::avx512
