#include "kernels/ref/conv2d_f32_ref.hpp"

#include <algorithm>

#include "kernels/ref/window_columns.hpp"

namespace octet::kernels {

void conv2d_f32_ref(const Conv2dShape& s, const float* input, const float* weight,
                    const float* bias, ClampF32 clamp, float* output) {
  const int64_t in_per_group = s.in_channels / s.groups;
  const int64_t out_per_group = s.out_channels / s.groups;
  const int64_t in_plane = s.in_h * s.in_w;
  const int64_t out_plane = s.out_h * s.out_w;
  for (int64_t n = 0; n < s.batch; ++n) {
    for (int64_t oc = 0; oc < s.out_channels; ++oc) {
      const int64_t group = oc / out_per_group;
      float* out = output + (n * s.out_channels + oc) * out_plane;
      std::fill(out, out + out_plane, bias ? bias[oc] : 0.0f);
      for (int64_t ic = 0; ic < in_per_group; ++ic) {
        const float* in = input + (n * s.in_channels + group * in_per_group + ic) * in_plane;
        const float* w = weight + (oc * in_per_group + ic) * s.kernel_h * s.kernel_w;
        for (int64_t ky = 0; ky < s.kernel_h; ++ky) {
          const int64_t y_offset = ky * s.dilation_h - s.pad_top;
          for (int64_t kx = 0; kx < s.kernel_w; ++kx) {
            const float tap = w[ky * s.kernel_w + kx];
            const int64_t x_offset = kx * s.dilation_w - s.pad_left;
            int64_t ox_begin, ox_end;
            valid_output_columns(s.out_w, s.stride_w, x_offset, s.in_w, ox_begin, ox_end);
            for (int64_t oy = 0; oy < s.out_h; ++oy) {
              const int64_t iy = oy * s.stride_h + y_offset;
              if (iy < 0 || iy >= s.in_h) continue;  // zero padding contributes nothing
              const float* in_row = in + iy * s.in_w;
              float* out_row = out + oy * s.out_w;
              for (int64_t ox = ox_begin; ox < ox_end; ++ox)
                out_row[ox] += tap * in_row[ox * s.stride_w + x_offset];
            }
          }
        }
      }
      for (int64_t i = 0; i < out_plane; ++i) out[i] = std::min(std::max(out[i], clamp.low), clamp.high);
    }
  }
}

}  // namespace octet::kernels
