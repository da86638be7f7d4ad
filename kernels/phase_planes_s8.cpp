#include "kernels/phase_planes_s8.hpp"

#include <cstring>

#include "kernels/ref/window_columns.hpp"

namespace octet::kernels {
namespace {

// memcpy of a short run as fixed-size 16/8/4-byte moves (the first and last chunks overlap
// instead of a byte tail), never touching a byte outside [0, n).
inline void copy_bytes(int8_t* dst, const int8_t* src, int64_t n) {
  if (n >= 16) {
    for (int64_t i = 0; i + 16 <= n; i += 16) std::memcpy(dst + i, src + i, 16);
    std::memcpy(dst + n - 16, src + n - 16, 16);
  } else if (n >= 8) {
    std::memcpy(dst, src, 8);
    std::memcpy(dst + n - 8, src + n - 8, 8);
  } else if (n >= 4) {
    std::memcpy(dst, src, 4);
    std::memcpy(dst + n - 4, src + n - 4, 4);
  } else {
    for (int64_t i = 0; i < n; ++i) dst[i] = src[i];
  }
}

int64_t plane_height(const Conv2dShape& s) {
  return s.out_h + (s.kernel_h - 1) * s.dilation_h / s.stride_h + 1;
}

}  // namespace

int64_t phase_plane_height(const Conv2dShape& s) { return plane_height(s); }

int64_t channel_quad_depth(const Conv2dShape& s) {
  return (s.in_channels / s.groups + 3) / 4 * 4 * s.kernel_h * s.kernel_w;
}

std::vector<int8_t> reorder_weights_to_channel_quads(const Conv2dShape& s, const int8_t* weights, int64_t rows) {
  const int64_t channels = s.in_channels / s.groups, taps = s.kernel_h * s.kernel_w;
  const int64_t depth = channels * taps, quad_depth = channel_quad_depth(s);
  std::vector<int8_t> reordered(static_cast<size_t>(rows * quad_depth), 0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t t = 0; t < taps; ++t)
        reordered[static_cast<size_t>(r * quad_depth + ((c / 4) * taps + t) * 4 + c % 4)] =
            weights[r * depth + c * taps + t];
  return reordered;
}

int64_t phase_plane_width(const Conv2dShape& s) { return s.out_w + (s.kernel_w - 1) * s.dilation_w / s.stride_w; }

int64_t phase_plane_columns(const Conv2dShape& s) { return s.out_h * phase_plane_width(s); }

size_t phase_plane_bytes(const Conv2dShape& s) {
  const int64_t in_per_group = s.in_channels / s.groups;
  return static_cast<size_t>(in_per_group * s.stride_h * s.stride_w * plane_height(s) * phase_plane_width(s));
}

void phase_plane_rows_s8(const Conv2dShape& s, const int8_t* image, int64_t group, int8_t pad, int8_t* storage,
                         const int8_t** rows, int threads) {
  const int64_t in_per_group = s.in_channels / s.groups;
  const int64_t width = phase_plane_width(s), height = plane_height(s);
  const int64_t plane_bytes = width * height;
  const int64_t phases = s.stride_h * s.stride_w;
  // Which phases some tap reads (a 1x1 stride-2 convolution needs only phase (0, 0)).
  bool used[64] = {};
  const bool few_phases = phases <= 64;
  for (int64_t ky = 0; ky < s.kernel_h; ++ky)
    for (int64_t kx = 0; kx < s.kernel_w; ++kx)
      if (few_phases)
        used[(ky * s.dilation_h % s.stride_h) * s.stride_w + kx * s.dilation_w % s.stride_w] = true;
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1 && in_per_group > 1 && in_per_group * s.in_h * s.in_w >= (1 << 16))
  for (int64_t ic = 0; ic < in_per_group; ++ic) {
    const int8_t* plane = image + (group * in_per_group + ic) * s.in_h * s.in_w;
    for (int64_t py = 0; py < s.stride_h; ++py)
      for (int64_t px = 0; px < s.stride_w; ++px) {
        if (few_phases && !used[py * s.stride_w + px]) continue;
        int8_t* dst = storage + (ic * phases + py * s.stride_w + px) * plane_bytes;
        // Padding everywhere first (one large fill), then the input's part of each row: per-row
        // fills and copies were mostly call overhead on rows of 9 to 58 bytes.
        std::memset(dst, pad, static_cast<size_t>(plane_bytes));
        // Column j reads input column j * stride_w + px - pad_left: [begin, end) are inside.
        int64_t begin, end;
        valid_output_columns(width, s.stride_w, px - s.pad_left, s.in_w, begin, end);
        for (int64_t i = 0; i < height; ++i) {
          const int64_t iy = i * s.stride_h + py - s.pad_top;
          if (iy < 0 || iy >= s.in_h) continue;
          const int8_t* src = plane + iy * s.in_w + px - s.pad_left;
          int8_t* out = dst + i * width;
          if (s.stride_w == 1)
            copy_bytes(out + begin, src + begin, end - begin);
          else
            for (int64_t j = begin; j < end; ++j) out[j] = src[j * s.stride_w];
        }
      }
  }
  for (int64_t ic = 0; ic < in_per_group; ++ic)
    for (int64_t ky = 0; ky < s.kernel_h; ++ky)
      for (int64_t kx = 0; kx < s.kernel_w; ++kx) {
        const int64_t ty = ky * s.dilation_h, tx = kx * s.dilation_w;
        const int64_t phase = (ty % s.stride_h) * s.stride_w + tx % s.stride_w;
        rows[(ic * s.kernel_h + ky) * s.kernel_w + kx] =
            storage + (ic * phases + phase) * plane_bytes + (ty / s.stride_h) * width + tx / s.stride_w;
      }
}

void compact_extended_columns_s8(const Conv2dShape& s, int64_t rows, const int8_t* extended, int8_t* output,
                                 int threads) {
  const int64_t width = phase_plane_width(s);
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1 && rows > 1 && rows * s.out_h * s.out_w >= (1 << 12))
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t oy = 0; oy < s.out_h; ++oy)
      std::memcpy(output + (r * s.out_h + oy) * s.out_w, extended + (r * s.out_h + oy) * width,
                  static_cast<size_t>(s.out_w));
}

}  // namespace octet::kernels
