#pragma once
// The AVX-512-VNNI GEMM for narrow outputs: output channels in the zmm lanes, activations
// broadcast. The column tiles of qgemm_s8_avx512_vnni.hpp put 16 output columns in a register,
// so a 7x7 map (49 pixels, 63 extended columns) fills 4 registers for 3 registers' worth of
// pixels, and its 2-block tiles issue one weight broadcast per two vpdpbusd. Here a register
// holds 16 output channels of one pixel (weights packed [row blocks of 16][K/4][16 rows][4 k]),
// and each pixel's 4 activation bytes of a K quad are broadcast from wherever they lie: any set
// of pixels makes a tile, the extended columns are never computed, and the output is written
// straight into NCHW (no compaction pass).
//
// Only call this after kernels/isa.hpp reports Isa::avx512_vnni.
#include <cstdint>

#include "kernels/avx2/qconv2d_s8_avx2.hpp"

namespace octet::kernels::avx512 {

// out[row * row_stride + col] for every row of `weights` (packed with channel_lanes) and col in
// [0, cols), requantized by `stage`. The u8 activations of column col for K quad q are the 4
// bytes at quad_rows[q] + column_offsets[col]. Tiles of channel_lane_tile_rows(rows, threads)
// rows; threads split row tiles, each output is computed by one thread in a fixed order, and the
// results do not depend on the tile shape.
void qgemm_channel_lanes_vnni(const avx2::PackedWeights& weights, const avx2::RowOutputStage& stage,
                              const uint8_t* const* quad_rows, const int64_t* column_offsets, int64_t cols,
                              int8_t* out, int64_t row_stride, int threads);

// The rows per tile for a GEMM of `rows` output channels on `threads` threads of a core with
// `loads` (kernels/isa.hpp; the GEMM passes cpu_core_loads()): 64, in tiles of up to 6 columns
// (17 loads per 24 vpdpbusd), once there are 4 blocks of 16 (49 rows), with more than one
// thread once each thread gets two such tiles, and not on a four-narrow-load core; otherwise
// 32, in tiles of up to 12 columns (26 loads per 24).
int64_t channel_lane_tile_rows(int64_t rows, int threads, CoreLoads loads);

}  // namespace octet::kernels::avx512
