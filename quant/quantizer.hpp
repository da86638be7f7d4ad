#pragma once
// The numeric conversion between real values and int8 codes, shared by the quantization pass
// (weights, biases), calibration checks and float simulation (fake quantization). Bit-compatible
// with the integer kernels: quantize_value is exactly kernels::quantize_one_s8.
#include <cstdint>
#include <vector>

#include "quant/qparams.hpp"

namespace octet::quant {

int8_t quantize_value(float value, AffineParams params);
float dequantize_value(int8_t code, AffineParams params);
// dequantize(quantize(x)): what an int8 tensor can represent of x.
float fake_quantize_value(float value, AffineParams params);
void fake_quantize(const float* input, int64_t count, AffineParams params, float* output);

// Symmetric weight quantization to [-max_code, max_code] (127, or 63 in 7-bit mode), per channel
// along axis 0 when `per_channel`, returning the codes and filling `scales` (one per channel, or
// one).
std::vector<int8_t> quantize_weights(const float* weights, int64_t channels, int64_t per_channel_count,
                                     bool per_channel, std::vector<float>& scales, int32_t max_code = kWeightMax);

// Bias in the accumulator's scale (input scale × weight scale), rounded, saturated to int32.
// Returns how many values saturated (0 in any sane model) through `saturated`.
std::vector<int32_t> quantize_bias(const float* bias, int64_t channels, float input_scale,
                                   const std::vector<float>& weight_scales, int64_t& saturated);

}  // namespace octet::quant
