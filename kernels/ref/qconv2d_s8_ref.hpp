#pragma once
// Reference int8 convolution, the oracle for every SIMD path:
//   acc[oc] = bias[oc] + sum (x - input_zero_point) * w        (int32, exact)
//   y = clamp(zp_out + requantize(acc, multiplier[oc]), low, high)
// Padding holds the input zero point (real 0), so it contributes nothing to the sum.
#include <cstdint>

#include "kernels/ref/conv2d_f32_ref.hpp"
#include "kernels/requantize.hpp"

namespace octet::kernels {

struct QuantizedOutputStage {
  const int32_t* bias;                       // [out_channels] in scale_in*scale_w[oc]; may be null
  const QuantizedMultiplier* multipliers;    // [out_channels] (per channel) or [1]
  bool per_channel;
  int32_t output_zero_point;
  int32_t low, high;                         // clamp in quantized units (fused ReLU/ReLU6)
  const QuantizedMultiplier& multiplier(int64_t channel) const {
    return multipliers[per_channel ? channel : 0];
  }
};

void qconv2d_s8_ref(const Conv2dShape& shape, const int8_t* input, int32_t input_zero_point,
                    const int8_t* weight, const QuantizedOutputStage& stage, int8_t* output);

// The exact int32 accumulators sum (x - input_zero_point) * w of every output (NCHW), without
// bias or requantization: shared by qconv2d_s8_ref and dynamic quantization.
void conv2d_s8_accumulate_ref(const Conv2dShape& shape, const int8_t* input, int32_t input_zero_point,
                              const int8_t* weight, int32_t* accumulators);

}  // namespace octet::kernels
