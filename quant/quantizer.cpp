#include "quant/quantizer.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/ref/quantize_ref.hpp"

namespace octet::quant {

int8_t quantize_value(float value, AffineParams params) {
  return kernels::quantize_one_s8(value, params.scale, params.zero_point);
}

float dequantize_value(int8_t code, AffineParams params) {
  return static_cast<float>(static_cast<int32_t>(code) - params.zero_point) * params.scale;
}

float fake_quantize_value(float value, AffineParams params) {
  return dequantize_value(quantize_value(value, params), params);
}

void fake_quantize(const float* input, int64_t count, AffineParams params, float* output) {
  for (int64_t i = 0; i < count; ++i) output[i] = fake_quantize_value(input[i], params);
}

std::vector<int8_t> quantize_weights(const float* weights, int64_t channels, int64_t per_channel_count,
                                     bool per_channel, std::vector<float>& scales, int32_t max_code) {
  scales.clear();
  if (per_channel) {
    for (int64_t c = 0; c < channels; ++c) {
      float absmax = 0.0f;
      for (int64_t i = 0; i < per_channel_count; ++i)
        absmax = std::max(absmax, std::fabs(weights[c * per_channel_count + i]));
      scales.push_back(choose_weight_scale(absmax, max_code));
    }
  } else {
    float absmax = 0.0f;
    for (int64_t i = 0; i < channels * per_channel_count; ++i) absmax = std::max(absmax, std::fabs(weights[i]));
    scales.push_back(choose_weight_scale(absmax, max_code));
  }
  std::vector<int8_t> codes(static_cast<size_t>(channels * per_channel_count));
  for (int64_t c = 0; c < channels; ++c) {
    const float scale = scales[per_channel ? static_cast<size_t>(c) : 0];
    for (int64_t i = 0; i < per_channel_count; ++i) {
      const float q = std::nearbyint(weights[c * per_channel_count + i] / scale);
      codes[static_cast<size_t>(c * per_channel_count + i)] =
          static_cast<int8_t>(std::clamp(q, -static_cast<float>(max_code), static_cast<float>(max_code)));
    }
  }
  return codes;
}

std::vector<int32_t> quantize_bias(const float* bias, int64_t channels, float input_scale,
                                   const std::vector<float>& weight_scales, int64_t& saturated) {
  std::vector<int32_t> codes(static_cast<size_t>(channels));
  saturated = 0;
  for (int64_t c = 0; c < channels; ++c) {
    const double scale = static_cast<double>(input_scale) * weight_scales[weight_scales.size() == 1 ? 0 : static_cast<size_t>(c)];
    double q = std::nearbyint(static_cast<double>(bias[c]) / scale);
    const double low = std::numeric_limits<int32_t>::min(), high = std::numeric_limits<int32_t>::max();
    if (q < low || q > high) {
      ++saturated;
      q = std::clamp(q, low, high);
    }
    codes[static_cast<size_t>(c)] = static_cast<int32_t>(q);
  }
  return codes;
}

}  // namespace octet::quant
