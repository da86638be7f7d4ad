#pragma once
// Reference 2-D pooling over NCHW planes. Windows are clipped to the input; padding never
// contributes to a max, and to an average only when count_include_pad is set.
#include <cstdint>

namespace octet::kernels {

struct Pool2dShape {
  int64_t batch, channels, in_h, in_w, out_h, out_w;
  int64_t kernel_h, kernel_w;
  int64_t stride_h, stride_w;
  int64_t dilation_h, dilation_w;
  int64_t pad_top, pad_left, pad_bottom, pad_right;
};

void max_pool2d_f32_ref(const Pool2dShape& shape, const float* input, float* output);
void max_pool2d_u8_ref(const Pool2dShape& shape, const uint8_t* input, uint8_t* output);
void max_pool2d_s8_ref(const Pool2dShape& shape, const int8_t* input, int8_t* output);

void average_pool2d_f32_ref(const Pool2dShape& shape, bool count_include_pad, const float* input,
                            float* output);

// Mean over all spatial positions of each (n, c) plane.
void global_average_pool_f32_ref(int64_t planes, int64_t plane_size, const float* input,
                                 float* output);

}  // namespace octet::kernels
