// The NPU's integer kernels. Integer-only by construction: compiled with -mgeneral-regs-only
// (backends/npu_emu/CMakeLists.txt), so no float or double can appear here.
#include "backends/npu_emu/npu_kernels.hpp"

#include <algorithm>
#include <vector>

#include "kernels/ref/window_columns.hpp"

namespace octet::npu {
namespace {

int8_t output_stage(int32_t acc, const LayerRequant& r) {
  const int64_t value =
      static_cast<int64_t>(npu_multiply(acc, r.multiplier, r.rounding)) + r.output_zero_point;
  return static_cast<int8_t>(std::min<int64_t>(r.high, std::max<int64_t>(r.low, value)));
}

// One add of a product into the accumulator: plain when the layer's bound proves it cannot
// leave the accumulator's range, saturating otherwise.
template <bool Saturate>
inline int32_t accumulate(int32_t acc, int32_t product, const AccumulatorRange& range) {
  if constexpr (Saturate) return range.add(acc, product);
  return acc + product;
}

template <bool Saturate>
void conv2d(const ConvGeometry& s, const int8_t* input, int32_t input_zero_point,
            const int8_t* weight, const LayerRequant& r, int8_t* output) {
  const int64_t in_per_group = s.in_channels / s.groups;
  const int64_t out_per_group = s.out_channels / s.groups;
  const int64_t in_plane = s.in_h * s.in_w;
  const int64_t out_plane = s.out_h * s.out_w;
  std::vector<int32_t> acc(static_cast<size_t>(out_plane));
  for (int64_t n = 0; n < s.batch; ++n) {
    for (int64_t oc = 0; oc < s.out_channels; ++oc) {
      const int64_t group = oc / out_per_group;
      std::fill(acc.begin(), acc.end(), r.accumulator.add(0, r.bias ? r.bias[oc] : 0));
      for (int64_t ic = 0; ic < in_per_group; ++ic) {
        const int8_t* in = input + (n * s.in_channels + group * in_per_group + ic) * in_plane;
        const int8_t* w = weight + (oc * in_per_group + ic) * s.kernel_h * s.kernel_w;
        for (int64_t ky = 0; ky < s.kernel_h; ++ky) {
          const int64_t y_offset = ky * s.dilation_h - s.pad_top;
          for (int64_t kx = 0; kx < s.kernel_w; ++kx) {
            const int32_t tap = w[ky * s.kernel_w + kx];
            const int64_t x_offset = kx * s.dilation_w - s.pad_left;
            // Taps on padding add (zp - zp) * w = 0 and are skipped.
            int64_t ox_begin, ox_end;
            kernels::valid_output_columns(s.out_w, s.stride_w, x_offset, s.in_w, ox_begin, ox_end);
            for (int64_t oy = 0; oy < s.out_h; ++oy) {
              const int64_t iy = oy * s.stride_h + y_offset;
              if (iy < 0 || iy >= s.in_h) continue;
              const int8_t* in_row = in + iy * s.in_w;
              int32_t* acc_row = acc.data() + oy * s.out_w;
              for (int64_t ox = ox_begin; ox < ox_end; ++ox)
                acc_row[ox] = accumulate<Saturate>(
                    acc_row[ox],
                    (static_cast<int32_t>(in_row[ox * s.stride_w + x_offset]) - input_zero_point) *
                        tap,
                    r.accumulator);
            }
          }
        }
      }
      int8_t* out = output + (n * s.out_channels + oc) * out_plane;
      for (int64_t i = 0; i < out_plane; ++i) out[i] = output_stage(acc[static_cast<size_t>(i)], r);
    }
  }
}

template <bool Saturate>
void gemm(int64_t m, int64_t n, int64_t k, const int8_t* a, int32_t a_zero_point,
          const int8_t* weight, const LayerRequant& r, int8_t* output) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      int32_t acc = r.accumulator.add(0, r.bias ? r.bias[j] : 0);
      for (int64_t p = 0; p < k; ++p)
        acc = accumulate<Saturate>(
            acc, (static_cast<int32_t>(a[i * k + p]) - a_zero_point) * weight[j * k + p],
            r.accumulator);
      output[i * n + j] = output_stage(acc, r);
    }
}

int32_t rounded_divide(int32_t sum, int32_t count) {
  return sum >= 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
}

}  // namespace

void npu_conv2d_s8(const ConvGeometry& shape, const int8_t* input, int32_t input_zero_point,
                   const int8_t* weight, const LayerRequant& requant, int8_t* output) {
  if (requant.may_saturate)
    conv2d<true>(shape, input, input_zero_point, weight, requant, output);
  else
    conv2d<false>(shape, input, input_zero_point, weight, requant, output);
}

void npu_gemm_s8(int64_t m, int64_t n, int64_t k, const int8_t* a, int32_t a_zero_point,
                 const int8_t* weight, const LayerRequant& requant, int8_t* output) {
  if (requant.may_saturate)
    gemm<true>(m, n, k, a, a_zero_point, weight, requant, output);
  else
    gemm<false>(m, n, k, a, a_zero_point, weight, requant, output);
}

void npu_add_s8(int64_t count, const int8_t* a, const int8_t* b, int64_t b_count,
                const kernels::QAddParams& p, Rounding rounding, int8_t* output) {
  for (int64_t i = 0; i < count; ++i) {
    const int32_t shifted_a = (static_cast<int32_t>(a[i]) - p.a_zero_point) * (1 << p.left_shift);
    const int32_t shifted_b =
        (static_cast<int32_t>(b[b_count == 1 ? 0 : i]) - p.b_zero_point) * (1 << p.left_shift);
    const int64_t sum = static_cast<int64_t>(npu_multiply(shifted_a, p.a_multiplier, rounding)) +
                        npu_multiply(shifted_b, p.b_multiplier, rounding);
    const int64_t value =
        static_cast<int64_t>(npu_multiply(saturate_to_int32(sum), p.output_multiplier, rounding)) +
        p.output_zero_point;
    output[i] = static_cast<int8_t>(std::min<int64_t>(p.high, std::max<int64_t>(p.low, value)));
  }
}

void npu_max_pool_s8(const WindowShape& s, const int8_t* input, int8_t* output) {
  for (int64_t p = 0; p < s.planes; ++p) {
    const int8_t* in = input + p * s.in_h * s.in_w;
    int8_t* out = output + p * s.out_h * s.out_w;
    for (int64_t oy = 0; oy < s.out_h; ++oy)
      for (int64_t ox = 0; ox < s.out_w; ++ox) {
        int8_t best = -128;  // padding never wins a max
        for (int64_t ky = 0; ky < s.kernel_h; ++ky) {
          const int64_t iy = oy * s.stride_h + ky * s.dilation_h - s.pad_top;
          if (iy < 0 || iy >= s.in_h) continue;
          for (int64_t kx = 0; kx < s.kernel_w; ++kx) {
            const int64_t ix = ox * s.stride_w + kx * s.dilation_w - s.pad_left;
            if (ix >= 0 && ix < s.in_w) best = std::max(best, in[iy * s.in_w + ix]);
          }
        }
        out[oy * s.out_w + ox] = best;
      }
  }
}

void npu_average_pool_s8(const WindowShape& s, bool count_include_pad, int32_t zero_point,
                         const int8_t* input, int8_t* output) {
  for (int64_t p = 0; p < s.planes; ++p) {
    const int8_t* in = input + p * s.in_h * s.in_w;
    int8_t* out = output + p * s.out_h * s.out_w;
    for (int64_t oy = 0; oy < s.out_h; ++oy)
      for (int64_t ox = 0; ox < s.out_w; ++ox) {
        int32_t sum = 0, inside = 0;
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
        int32_t divisor = inside;
        if (count_include_pad) {
          // Padded positions hold the zero point (real 0) and count in the divisor.
          const int64_t y0 = oy * s.stride_h - s.pad_top, x0 = ox * s.stride_w - s.pad_left;
          const int64_t y1 =
              std::min(y0 + (s.kernel_h - 1) * s.dilation_h + 1, s.in_h + s.pad_bottom);
          const int64_t x1 =
              std::min(x0 + (s.kernel_w - 1) * s.dilation_w + 1, s.in_w + s.pad_right);
          divisor = static_cast<int32_t>(((y1 - y0 + s.dilation_h - 1) / s.dilation_h) *
                                         ((x1 - x0 + s.dilation_w - 1) / s.dilation_w));
          sum += (divisor - inside) * zero_point;
        }
        const int32_t value = divisor > 0 ? rounded_divide(sum, divisor) : zero_point;
        out[oy * s.out_w + ox] = static_cast<int8_t>(std::min(127, std::max(-128, value)));
      }
  }
}

void npu_global_average_pool_s8(int64_t planes, int64_t plane_size, const int8_t* input,
                                int8_t* output) {
  for (int64_t p = 0; p < planes; ++p) {
    int32_t sum = 0;
    for (int64_t i = 0; i < plane_size; ++i) sum += input[p * plane_size + i];
    output[p] = static_cast<int8_t>(rounded_divide(sum, static_cast<int32_t>(plane_size)));
  }
}

}  // namespace octet::npu
