#pragma once
// Implicit im2col for the int8 GEMM convolutions: instead of materializing the [K][P] matrix
// (K = C * kh * kw rows, P = output pixels; 9x the input for a 3x3 convolution), the padded input
// is split once into stride_h x stride_w "phase planes", phase(py, px)[i][j] =
// padded[i * stride_h + py][j * stride_w + px]. In a phase plane of width W = out_w +
// (kw - 1) * dilation_w / stride_w, the input under tap (ky, kx) for output pixel (oy, ox) sits at
//     phase((ky*dh) % sh, (kx*dw) % sw)[oy + (ky*dh) / sh][ox + (kx*dw) / sw]
//   = row_k[oy * W + ox],   row_k = that phase plane + ((ky*dh) / sh) * W + (kx*dw) / sw,
// so every im2col row is a contiguous slice of a phase plane, provided the GEMM computes the
// "extended" columns e = oy * W + ox for ox in [0, W): W - out_w columns per output row are
// computed and thrown away (0 for 1x1 kernels; 2 of 58 for ResNet's 3x3 on 56x56).
//
// Plain C++ (one pass over the input); the ISA-specific code interleaves the rows into its panel.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/ref/conv2d_f32_ref.hpp"

namespace octet::kernels {


// W, the plane height and the bytes phase_plane_rows_s8 needs for one group.
int64_t phase_plane_width(const Conv2dShape& shape);
size_t phase_plane_bytes(const Conv2dShape& shape);
// The GEMM columns: out_h * W.
int64_t phase_plane_columns(const Conv2dShape& shape);

// Builds the phase planes of group `group` of one image into `storage` (phase_plane_bytes),
// padding with `pad` (the input zero point, real 0), and points rows[k] at im2col row k =
// (ic, ky, kx) for k < C/groups * kh * kw. `threads` split the channels (pure copies: the result
// does not depend on it).
void phase_plane_rows_s8(const Conv2dShape& shape, const int8_t* image, int64_t group, int8_t pad, int8_t* storage,
                         const int8_t** rows, int threads = 1);

// Rows of one phase plane (out_h + (kh - 1) * dh / sh + 1: one spare row for the last taps).
int64_t phase_plane_height(const Conv2dShape& shape);

// Channel quads, for GEMM kernels whose unsigned operand holds 4 consecutive K values per 32-bit
// lane (VNNI): if the phase planes of channels 4c..4c+3 are interleaved byte by byte, the 4
// bytes of position (i, j) are contiguous, and K ordered as
//     k' = ((c4 * kh + ky) * kw + kx) * 4 + c % 4      (channels padded to a multiple of 4)
// makes every K quad (c4, ky, kx) a contiguous run of 4-byte columns at one offset of one
// interleaved plane: the GEMM reads the planes directly, with no im2col panel at all.
int64_t channel_quad_depth(const Conv2dShape& shape);  // round_up(C / groups, 4) * kh * kw
// `weights` is one group's [rows][C/groups * kh * kw] (OIHW); returns [rows][channel_quad_depth]
// in the k' order above, zero for the padding channels.
std::vector<int8_t> reorder_weights_to_channel_quads(const Conv2dShape& shape, const int8_t* weights, int64_t rows);

// Copies the extended GEMM output [rows][out_h * W] into the NCHW output [rows][out_h * out_w].
void compact_extended_columns_s8(const Conv2dShape& shape, int64_t rows, const int8_t* extended, int8_t* output,
                                 int threads = 1);

}  // namespace octet::kernels
