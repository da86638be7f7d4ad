#include "kernels/ref/qpool2d_s8_ref.hpp"

#include <algorithm>

namespace octet::kernels {

int32_t rounded_divide(int32_t sum, int32_t count) {
  return sum >= 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
}

void average_pool2d_s8_ref(const Pool2dShape& s, bool count_include_pad, int32_t zero_point,
                           const int8_t* input, int8_t* output) {
  const int64_t planes = s.batch * s.channels;
  for (int64_t p = 0; p < planes; ++p) {
    const int8_t* in = input + p * s.in_h * s.in_w;
    int8_t* out = output + p * s.out_h * s.out_w;
    for (int64_t oy = 0; oy < s.out_h; ++oy) {
      for (int64_t ox = 0; ox < s.out_w; ++ox) {
        int32_t sum = 0, inside = 0, divisor;
        for (int64_t ky = 0; ky < s.kernel_h; ++ky) {
          const int64_t iy = oy * s.stride_h + ky * s.dilation_h - s.pad_top;
          if (iy < 0 || iy >= s.in_h) continue;
          for (int64_t kx = 0; kx < s.kernel_w; ++kx) {
            const int64_t ix = ox * s.stride_w + kx * s.dilation_w - s.pad_left;
            if (ix < 0 || ix >= s.in_w) continue;
            sum += in[iy * s.in_w + ix];
            ++inside;
          }
        }
        divisor = inside;
        if (count_include_pad) {
          // Padded positions hold real 0, i.e. the zero point, and count in the divisor.
          const int64_t y0 = oy * s.stride_h - s.pad_top, x0 = ox * s.stride_w - s.pad_left;
          const int64_t y1 = std::min(y0 + (s.kernel_h - 1) * s.dilation_h + 1, s.in_h + s.pad_bottom);
          const int64_t x1 = std::min(x0 + (s.kernel_w - 1) * s.dilation_w + 1, s.in_w + s.pad_right);
          divisor = static_cast<int32_t>(((y1 - y0 + s.dilation_h - 1) / s.dilation_h) *
                                         ((x1 - x0 + s.dilation_w - 1) / s.dilation_w));
          sum += (divisor - inside) * zero_point;
        }
        const int32_t value = divisor > 0 ? rounded_divide(sum, divisor) : zero_point;
        out[oy * s.out_w + ox] = static_cast<int8_t>(std::min(127, std::max(-128, value)));
      }
    }
  }
}

void global_average_pool_s8_ref(int64_t planes, int64_t plane_size, const int8_t* input, int8_t* output) {
  for (int64_t p = 0; p < planes; ++p) {
    int32_t sum = 0;
    for (int64_t i = 0; i < plane_size; ++i) sum += input[p * plane_size + i];
    output[p] = static_cast<int8_t>(rounded_divide(sum, static_cast<int32_t>(plane_size)));
  }
}

}  // namespace octet::kernels
