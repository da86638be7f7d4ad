#include "kernels/ref/quantize_ref.hpp"

#include <cmath>

namespace octet::kernels {

int8_t quantize_one_s8(float value, float scale, int32_t zero_point) {
  // nearbyint rounds half to even in the default rounding mode, as ONNX specifies.
  const float scaled = std::nearbyint(value / scale);
  // Clamp in float first: a huge or infinite value must not overflow the integer conversion.
  const float shifted = std::fmin(std::fmax(scaled + static_cast<float>(zero_point), -128.0f), 127.0f);
  return static_cast<int8_t>(shifted);
}

void quantize_f32_to_s8_ref(int64_t count, const float* input, float scale, int32_t zero_point,
                            int8_t* output) {
  for (int64_t i = 0; i < count; ++i) output[i] = quantize_one_s8(input[i], scale, zero_point);
}

void dequantize_s8_to_f32_ref(int64_t count, const int8_t* input, float scale, int32_t zero_point,
                              float* output) {
  for (int64_t i = 0; i < count; ++i)
    output[i] = static_cast<float>(static_cast<int32_t>(input[i]) - zero_point) * scale;
}

}  // namespace octet::kernels
