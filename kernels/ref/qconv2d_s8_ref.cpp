#include "kernels/ref/qconv2d_s8_ref.hpp"

#include <algorithm>
#include <vector>

#include "kernels/ref/window_columns.hpp"

namespace octet::kernels {

// One output channel at a time: the int32 accumulator plane starts at 0, every (input channel,
// tap) adds (x - zp) * w to the output positions whose window covers an in-bounds input
// (out-of-bounds taps read padding = zero point and add exactly 0).
void conv2d_s8_accumulate_ref(const Conv2dShape& s, const int8_t* input, int32_t input_zero_point,
                              const int8_t* weight, int32_t* accumulators) {
  const int64_t in_per_group = s.in_channels / s.groups;
  const int64_t out_per_group = s.out_channels / s.groups;
  const int64_t in_plane = s.in_h * s.in_w;
  const int64_t out_plane = s.out_h * s.out_w;
  for (int64_t n = 0; n < s.batch; ++n) {
    for (int64_t oc = 0; oc < s.out_channels; ++oc) {
      const int64_t group = oc / out_per_group;
      int32_t* acc = accumulators + (n * s.out_channels + oc) * out_plane;
      std::fill(acc, acc + out_plane, 0);
      for (int64_t ic = 0; ic < in_per_group; ++ic) {
        const int8_t* in = input + (n * s.in_channels + group * in_per_group + ic) * in_plane;
        const int8_t* w = weight + (oc * in_per_group + ic) * s.kernel_h * s.kernel_w;
        for (int64_t ky = 0; ky < s.kernel_h; ++ky) {
          const int64_t y_offset = ky * s.dilation_h - s.pad_top;
          for (int64_t kx = 0; kx < s.kernel_w; ++kx) {
            const int32_t tap = w[ky * s.kernel_w + kx];
            const int64_t x_offset = kx * s.dilation_w - s.pad_left;
            int64_t ox_begin, ox_end;
            valid_output_columns(s.out_w, s.stride_w, x_offset, s.in_w, ox_begin, ox_end);
            for (int64_t oy = 0; oy < s.out_h; ++oy) {
              const int64_t iy = oy * s.stride_h + y_offset;
              if (iy < 0 || iy >= s.in_h) continue;
              const int8_t* in_row = in + iy * s.in_w;
              int32_t* acc_row = acc + oy * s.out_w;
              for (int64_t ox = ox_begin; ox < ox_end; ++ox)
                acc_row[ox] += (static_cast<int32_t>(in_row[ox * s.stride_w + x_offset]) - input_zero_point) * tap;
            }
          }
        }
      }
    }
  }
}

void qconv2d_s8_ref(const Conv2dShape& s, const int8_t* input, int32_t input_zero_point,
                    const int8_t* weight, const QuantizedOutputStage& stage, int8_t* output) {
  const int64_t out_plane = s.out_h * s.out_w;
  std::vector<int32_t> acc(static_cast<size_t>(s.batch * s.out_channels * out_plane));
  conv2d_s8_accumulate_ref(s, input, input_zero_point, weight, acc.data());
  for (size_t i = 0; i < acc.size(); ++i) {
    const int64_t oc = static_cast<int64_t>(i) / out_plane % s.out_channels;
    output[i] = requantize_to_s8(acc[i] + (stage.bias ? stage.bias[oc] : 0), stage.multiplier(oc),
                                 stage.output_zero_point, stage.low, stage.high);
  }
}

}  // namespace octet::kernels
