#pragma once
// im2col for the int8 GEMM convolutions of every ISA: one row of the [K][P] matrix per kernel
// tap. Plain C++ (row copies and fills): the ISA-specific code interleaves the rows afterwards.
#include <cstdint>

#include "kernels/ref/conv2d_f32_ref.hpp"

namespace octet::kernels {

// Row (ky, kx) of one input plane: row[oy * out_w + ox] = the input under that tap, or `pad`
// (the input zero point, real 0) where the tap falls in the padding.
void im2col_row_s8(const Conv2dShape& shape, const int8_t* plane, int64_t ky, int64_t kx, int8_t pad, int8_t* row);

}  // namespace octet::kernels
