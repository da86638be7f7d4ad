#include "kernels/im2col_s8.hpp"

#include <cstring>

#include "kernels/ref/window_columns.hpp"

namespace octet::kernels {

void im2col_row_s8(const Conv2dShape& s, const int8_t* plane, int64_t ky, int64_t kx, int8_t pad, int8_t* row) {
  const int64_t x_offset = kx * s.dilation_w - s.pad_left;
  int64_t begin, end;
  valid_output_columns(s.out_w, s.stride_w, x_offset, s.in_w, begin, end);
  for (int64_t oy = 0; oy < s.out_h; ++oy) {
    int8_t* dst = row + oy * s.out_w;
    const int64_t iy = oy * s.stride_h + ky * s.dilation_h - s.pad_top;
    if (iy < 0 || iy >= s.in_h) {
      std::memset(dst, pad, static_cast<size_t>(s.out_w));
      continue;
    }
    const int8_t* src = plane + iy * s.in_w;
    std::memset(dst, pad, static_cast<size_t>(begin));
    if (s.stride_w == 1) {
      std::memcpy(dst + begin, src + begin + x_offset, static_cast<size_t>(end - begin));
    } else {
      for (int64_t ox = begin; ox < end; ++ox) dst[ox] = src[ox * s.stride_w + x_offset];
    }
    std::memset(dst + end, pad, static_cast<size_t>(s.out_w - end));
  }
}

}  // namespace octet::kernels
