#pragma once
// AVX2 depthwise convolution (groups == in_channels == out_channels, any kernel size, stride and
// dilation), bit-exact with qconv2d_s8_ref. A GEMM per channel would waste its 4-row tiles on a
// single output channel; instead each channel's input plane is widened once to int16 with the
// zero point subtracted and zero-padded, and 8 output columns accumulate per step in int32.
#include <cstdint>

#include "kernels/ref/qconv2d_s8_ref.hpp"

namespace octet::kernels::avx2 {

bool is_depthwise(const Conv2dShape& shape);

void dwconv2d_s8_avx2(const Conv2dShape& shape, const int8_t* input, int32_t input_zero_point, const int8_t* weight,
                      const QuantizedOutputStage& stage, int8_t* output, int threads);

}  // namespace octet::kernels::avx2
