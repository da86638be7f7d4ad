#pragma once
// Reference fp32 2-D convolution (NCHW input, OIHW weights, grouped), written to be read: the
// oracle the fast paths are checked against. Pure function on raw buffers.
#include <cstdint>

namespace octet::kernels {

struct Conv2dShape {
  int64_t batch, in_channels, in_h, in_w;
  int64_t out_channels, out_h, out_w;
  int64_t kernel_h, kernel_w;
  int64_t stride_h, stride_w;
  int64_t dilation_h, dilation_w;
  int64_t pad_top, pad_left;  // bottom/right padding is implied by out_h/out_w
  int64_t groups;
};

// Output clamp applied after the bias (fused Relu/Clip); infinities mean no clamp.
struct ClampF32 {
  float low;
  float high;
};

// out[n][oc][oy][ox] = clamp(bias[oc] + sum over the group's input channels and the window of
// in * weight). `bias` may be null.
void conv2d_f32_ref(const Conv2dShape& shape, const float* input, const float* weight,
                    const float* bias, ClampF32 clamp, float* output);

}  // namespace octet::kernels
