#pragma once
// Reference int8 addition with both inputs rescaled to a common scale (TFLite's scheme), the
// residual skip connection of a quantized ResNet:
//   a' = requant((a - zp_a) << left_shift, input_a)     both at scale 2*max(s_a, s_b) / 2^left_shift
//   b' = requant((b - zp_b) << left_shift, input_b)
//   y  = clamp(zp_out + requant(a' + b', output), low, high)
// The left shift (20) keeps ~20 fractional bits so the finer input's precision survives the
// rescale even when the two scales are far apart.
#include <cstdint>

#include "kernels/requantize.hpp"

namespace octet::kernels {

struct QAddParams {
  int32_t left_shift = 20;
  int32_t a_zero_point = 0, b_zero_point = 0, output_zero_point = 0;
  QuantizedMultiplier a_multiplier, b_multiplier, output_multiplier;
  int32_t low = -128, high = 127;
};

// One input rescaled to the common scale: a' (or b') above.
int32_t qadd_rescale_input(int8_t x, int32_t zero_point, QuantizedMultiplier multiplier, int32_t left_shift);

int8_t qadd_one_s8(int8_t a, int8_t b, const QAddParams& params);

// Element-wise over `count` elements; `b` is broadcast when b_count == 1.
void qadd_s8_ref(int64_t count, const int8_t* a, const int8_t* b, int64_t b_count,
                 const QAddParams& params, int8_t* output);

}  // namespace octet::kernels
