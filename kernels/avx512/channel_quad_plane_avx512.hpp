#pragma once
// One channel-quad plane (kernels/phase_planes_s8.hpp) straight from NCHW input with AVX-512BW:
// per plane row and 64 positions, one masked load per channel (lanes outside the input read
// the padding value), a byte interleave into [position][4 channels] and four stores. The AVX2
// path gathers each channel's padded row into a buffer through memset / memcpy calls on rows
// of 7 to 58 bytes, then reloads it; those calls cost more than the interleave itself.
//
// Only call this after kernels/isa.hpp reports Isa::avx512_vnni (which implies AVX-512F/BW).
#include <cstdint>

namespace octet::kernels::avx512 {

// Where a plane's rows and positions come from: plane row i reads input row
// i * stride_h + row_offset, position x reads input column x * stride_w + column_offset.
struct ChannelQuadPlaneShape {
  int64_t in_h = 0, in_w = 0;
  int64_t stride_h = 1, stride_w = 1;
  int64_t row_offset = 0, column_offset = 0;
  int64_t height = 0, width = 0;  // of the plane, in rows and positions
};

// Writes dst[(i * width + x) * 4 + r] = input value of channel r (or `pad` outside the input)
// + 128 as uint8, for channels[r] != nullptr (an in_h x in_w NCHW plane); 0 for a null channel
// (past the last channel: its weights are zero). Horizontal strides 1 and 2 only; returns
// false, writing nothing, for others (the caller builds the plane the AVX2 way).
bool channel_quad_plane_avx512(const ChannelQuadPlaneShape& shape, const int8_t* const (&channels)[4], int8_t pad,
                               uint8_t* dst);

// Both horizontal phases of a stride-2 map at once, for planes at most 32 positions wide (every
// stride-2 map past a network's stem): each 64-byte row load holds both phases' columns (even
// and odd bytes), and two plane rows share one interleave. `shape` describes the even phase
// (stride_w == 2; the odd phase reads column_offset + 1); a null destination is not written.
// Returns false, writing nothing, when the shape does not qualify.
bool channel_quad_phase_pair_avx512(const ChannelQuadPlaneShape& shape, const int8_t* const (&channels)[4],
                                    int8_t pad, uint8_t* even_dst, uint8_t* odd_dst);

}  // namespace octet::kernels::avx512
