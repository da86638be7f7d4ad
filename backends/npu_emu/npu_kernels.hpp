#pragma once
// The emulated NPU's int8 kernels: convolution, fully connected, residual add, pooling.
// INTEGER-ONLY BY CONSTRUCTION (see npu_kernel_requantize.hpp): int8 in, int8 out, int32/int64
// inside; npu_kernels.cpp is compiled with -mgeneral-regs-only. With the default config
// (gemmlowp rounding, 32-bit accumulator) every kernel computes exactly what the ref backend's
// kernels/ref/*_s8_ref computes; the config changes the rounding and the accumulator width.
#include <cstdint>

#include "backends/npu_emu/npu_kernel_requantize.hpp"
#include "kernels/ref/qadd_s8_ref.hpp"

namespace octet::npu {

struct ConvGeometry {
  int64_t batch, in_channels, in_h, in_w;
  int64_t out_channels, out_h, out_w;
  int64_t kernel_h, kernel_w;
  int64_t stride_h, stride_w;
  int64_t dilation_h, dilation_w;
  int64_t pad_top, pad_left;
  int64_t groups;
};

// Output stage of a Conv/Gemm layer: one multiplier per layer (per-tensor weights).
struct LayerRequant {
  const int32_t* bias = nullptr;  // [out_channels], may be null
  kernels::QuantizedMultiplier multiplier;
  int32_t output_zero_point = 0;
  int32_t low = -128, high = 127;  // fused activation, quantized units
  Rounding rounding = Rounding::gemmlowp;
  AccumulatorRange accumulator;
  // False when the worst case |bias| + K * max|x - zp| * max|w| fits the accumulator (decided
  // at prepare): saturation can then never happen and the kernel skips the per-add clamp.
  bool may_saturate = true;
};

// acc = bias, then acc += (x - input_zero_point) * w for every tap in (input channel, kernel
// row, kernel column) order, saturating; y = clamp(zp_out + round(acc * M), low, high).
void npu_conv2d_s8(const ConvGeometry& shape, const int8_t* input, int32_t input_zero_point,
                   const int8_t* weight, const LayerRequant& requant, int8_t* output);

// y[m][n] from a [M, K] and weight [N, K], same accumulation and output stage.
void npu_gemm_s8(int64_t m, int64_t n, int64_t k, const int8_t* a, int32_t a_zero_point,
                 const int8_t* weight, const LayerRequant& requant, int8_t* output);

// TFLite's add (both inputs to a common scale with left shift 20), with the configured rounding;
// `b` is broadcast when b_count == 1.
void npu_add_s8(int64_t count, const int8_t* a, const int8_t* b, int64_t b_count,
                const kernels::QAddParams& params, Rounding rounding, int8_t* output);

struct WindowShape {
  int64_t planes, in_h, in_w, out_h, out_w;
  int64_t kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w;
  int64_t pad_top, pad_left, pad_bottom, pad_right;
};

void npu_max_pool_s8(const WindowShape& shape, const int8_t* input, int8_t* output);
// Sum of codes divided with rounding half away from zero (input and output share qparams).
void npu_average_pool_s8(const WindowShape& shape, bool count_include_pad, int32_t zero_point,
                         const int8_t* input, int8_t* output);
void npu_global_average_pool_s8(int64_t planes, int64_t plane_size, const int8_t* input,
                                int8_t* output);

}  // namespace octet::npu
