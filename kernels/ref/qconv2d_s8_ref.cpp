#include "kernels/ref/qconv2d_s8_ref.hpp"

namespace octet::kernels {

void qconv2d_s8_ref(const Conv2dShape& s, const int8_t* input, int32_t input_zero_point,
                    const int8_t* weight, const QuantizedOutputStage& stage, int8_t* output) {
  const int64_t in_per_group = s.in_channels / s.groups;
  const int64_t out_per_group = s.out_channels / s.groups;
  for (int64_t n = 0; n < s.batch; ++n) {
    for (int64_t oc = 0; oc < s.out_channels; ++oc) {
      const int64_t group = oc / out_per_group;
      for (int64_t oy = 0; oy < s.out_h; ++oy) {
        for (int64_t ox = 0; ox < s.out_w; ++ox) {
          int32_t acc = stage.bias ? stage.bias[oc] : 0;
          for (int64_t ic = 0; ic < in_per_group; ++ic) {
            const int64_t channel = group * in_per_group + ic;
            for (int64_t ky = 0; ky < s.kernel_h; ++ky) {
              const int64_t iy = oy * s.stride_h + ky * s.dilation_h - s.pad_top;
              if (iy < 0 || iy >= s.in_h) continue;
              for (int64_t kx = 0; kx < s.kernel_w; ++kx) {
                const int64_t ix = ox * s.stride_w + kx * s.dilation_w - s.pad_left;
                if (ix < 0 || ix >= s.in_w) continue;
                const int32_t x = input[((n * s.in_channels + channel) * s.in_h + iy) * s.in_w + ix];
                const int32_t w = weight[((oc * in_per_group + ic) * s.kernel_h + ky) * s.kernel_w + kx];
                acc += (x - input_zero_point) * w;
              }
            }
          }
          output[((n * s.out_channels + oc) * s.out_h + oy) * s.out_w + ox] =
              requantize_to_s8(acc, stage.multiplier(oc), stage.output_zero_point, stage.low, stage.high);
        }
      }
    }
  }
}

}  // namespace octet::kernels
