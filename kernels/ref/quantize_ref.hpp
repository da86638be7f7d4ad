#pragma once
// Float <-> int8 conversion at the edges of the int8 region (ONNX QuantizeLinear /
// DequantizeLinear semantics): q = saturate(round_half_to_even(x / scale) + zero_point),
// x = (q - zero_point) * scale.
#include <cstdint>

namespace octet::kernels {

int8_t quantize_one_s8(float value, float scale, int32_t zero_point);
void quantize_f32_to_s8_ref(int64_t count, const float* input, float scale, int32_t zero_point,
                            int8_t* output);
void dequantize_s8_to_f32_ref(int64_t count, const int8_t* input, float scale, int32_t zero_point,
                              float* output);

}  // namespace octet::kernels
