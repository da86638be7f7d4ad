#include "kernels/ref/qadd_s8_ref.hpp"

namespace octet::kernels {

int32_t qadd_rescale_input(int8_t x, int32_t zero_point, QuantizedMultiplier multiplier, int32_t left_shift) {
  return multiply_by_quantized_multiplier((static_cast<int32_t>(x) - zero_point) * (1 << left_shift), multiplier);
}

int8_t qadd_one_s8(int8_t a, int8_t b, const QAddParams& p) {
  const int32_t scaled_a = qadd_rescale_input(a, p.a_zero_point, p.a_multiplier, p.left_shift);
  const int32_t scaled_b = qadd_rescale_input(b, p.b_zero_point, p.b_multiplier, p.left_shift);
  return requantize_to_s8(scaled_a + scaled_b, p.output_multiplier, p.output_zero_point, p.low, p.high);
}

void qadd_s8_ref(int64_t count, const int8_t* a, const int8_t* b, int64_t b_count,
                 const QAddParams& params, int8_t* output) {
  for (int64_t i = 0; i < count; ++i) output[i] = qadd_one_s8(a[i], b[b_count == 1 ? 0 : i], params);
}

}  // namespace octet::kernels
