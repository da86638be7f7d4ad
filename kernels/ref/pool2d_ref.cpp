#include "kernels/ref/pool2d_ref.hpp"

#include <algorithm>
#include <limits>

namespace octet::kernels {
namespace {

template <class T>
void max_pool2d(const Pool2dShape& s, const T* input, T* output) {
  const int64_t planes = s.batch * s.channels;
  for (int64_t p = 0; p < planes; ++p) {
    const T* in = input + p * s.in_h * s.in_w;
    T* out = output + p * s.out_h * s.out_w;
    for (int64_t oy = 0; oy < s.out_h; ++oy) {
      for (int64_t ox = 0; ox < s.out_w; ++ox) {
        T best = std::numeric_limits<T>::lowest();
        for (int64_t ky = 0; ky < s.kernel_h; ++ky) {
          const int64_t iy = oy * s.stride_h + ky * s.dilation_h - s.pad_top;
          if (iy < 0 || iy >= s.in_h) continue;
          for (int64_t kx = 0; kx < s.kernel_w; ++kx) {
            const int64_t ix = ox * s.stride_w + kx * s.dilation_w - s.pad_left;
            if (ix < 0 || ix >= s.in_w) continue;
            best = std::max(best, in[iy * s.in_w + ix]);
          }
        }
        out[oy * s.out_w + ox] = best;
      }
    }
  }
}

}  // namespace

void max_pool2d_f32_ref(const Pool2dShape& s, const float* input, float* output) {
  max_pool2d(s, input, output);
}
void max_pool2d_u8_ref(const Pool2dShape& s, const uint8_t* input, uint8_t* output) {
  max_pool2d(s, input, output);
}
void max_pool2d_s8_ref(const Pool2dShape& s, const int8_t* input, int8_t* output) {
  max_pool2d(s, input, output);
}

void average_pool2d_f32_ref(const Pool2dShape& s, bool count_include_pad, const float* input,
                            float* output) {
  const int64_t planes = s.batch * s.channels;
  for (int64_t p = 0; p < planes; ++p) {
    const float* in = input + p * s.in_h * s.in_w;
    float* out = output + p * s.out_h * s.out_w;
    for (int64_t oy = 0; oy < s.out_h; ++oy) {
      for (int64_t ox = 0; ox < s.out_w; ++ox) {
        double sum = 0.0;
        int64_t inside = 0;
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
        int64_t divisor = inside;
        if (count_include_pad) {
          // Padding counts, but a window hanging past the padded border (ceil_mode) does not.
          const int64_t y0 = oy * s.stride_h - s.pad_top;
          const int64_t x0 = ox * s.stride_w - s.pad_left;
          const int64_t y1 = std::min(y0 + (s.kernel_h - 1) * s.dilation_h + 1, s.in_h + s.pad_bottom);
          const int64_t x1 = std::min(x0 + (s.kernel_w - 1) * s.dilation_w + 1, s.in_w + s.pad_right);
          divisor = ((y1 - y0 + s.dilation_h - 1) / s.dilation_h) * ((x1 - x0 + s.dilation_w - 1) / s.dilation_w);
        }
        out[oy * s.out_w + ox] = divisor > 0 ? static_cast<float>(sum / static_cast<double>(divisor)) : 0.0f;
      }
    }
  }
}

void global_average_pool_f32_ref(int64_t planes, int64_t plane_size, const float* input,
                                 float* output) {
  for (int64_t p = 0; p < planes; ++p) {
    double sum = 0.0;
    for (int64_t i = 0; i < plane_size; ++i) sum += input[p * plane_size + i];
    output[p] = static_cast<float>(sum / static_cast<double>(plane_size));
  }
}

}  // namespace octet::kernels
