#include "kernels/ref/qadd_s8_ref.hpp"

namespace octet::kernels {

int8_t qadd_one_s8(int8_t a, int8_t b, const QAddParams& p) {
  const int32_t shifted_a = (static_cast<int32_t>(a) - p.a_zero_point) * (1 << p.left_shift);
  const int32_t shifted_b = (static_cast<int32_t>(b) - p.b_zero_point) * (1 << p.left_shift);
  const int32_t scaled_a = multiply_by_quantized_multiplier(shifted_a, p.a_multiplier);
  const int32_t scaled_b = multiply_by_quantized_multiplier(shifted_b, p.b_multiplier);
  return requantize_to_s8(scaled_a + scaled_b, p.output_multiplier, p.output_zero_point, p.low, p.high);
}

void qadd_s8_ref(int64_t count, const int8_t* a, const int8_t* b, int64_t b_count,
                 const QAddParams& params, int8_t* output) {
  for (int64_t i = 0; i < count; ++i) output[i] = qadd_one_s8(a[i], b[b_count == 1 ? 0 : i], params);
}

}  // namespace octet::kernels
