#pragma once
// The activation panel of the VNNI column tiles ([16-column blocks][K/4][16 columns][4], u =
// x + 128) from K rows, with AVX-512BW, one 64-column stretch at a time: four rows' 64 bytes
// in, four blocks' 64 bytes out, each block written in order of K. The AVX2 packer walks K
// outermost and writes 64 bytes to every block in turn, a page apart (block stride = K x 16
// bytes): a store to a different page every time (resnet50's 1x1 layers: 200 pages per quad).
//
// Only call this after kernels/isa.hpp reports Isa::avx512_vnni (which implies AVX-512F/BW).
#include <cstdint>

namespace octet::kernels::avx512 {

// Row k (k < depth) at rows[k], `cols` values each; quads past depth and columns past cols (up
// to the block of 16) read u = 0. The panel holds ceil(cols / 16) blocks of padded_depth x 16
// bytes. Threads split the 64-column stretches.
void interleave_rows_to_panel_avx512(const int8_t* const* rows, int64_t depth, int64_t cols, int64_t padded_depth,
                                     uint8_t* panel, int threads);

}  // namespace octet::kernels::avx512
