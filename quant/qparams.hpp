#pragma once
// Choosing scales and zero points, and turning real multipliers into fixed point. The numeric
// spec is DESIGN.md §2; docs/quantization.md derives it.
#include <cstdint>

#include "kernels/ref/qadd_s8_ref.hpp"
#include "kernels/requantize.hpp"

namespace octet::quant {

constexpr int32_t kInt8Min = -128;
constexpr int32_t kInt8Max = 127;
constexpr int32_t kWeightMax = 127;  // weights are symmetric in [-127, 127] ...
// ... or, in 7-bit mode, in [-63, 63]: then every u8 x s8 pair sum of vpmaddubsw fits int16
// (2 * 255 * 63 < 32767) and the AVX2 fast path is exact without the split-weight fallback.
constexpr int32_t kWeightMax7Bit = 63;
inline int32_t weight_max_for_bits(int bits) { return bits == 7 ? kWeightMax7Bit : kWeightMax; }

struct AffineParams {
  float scale = 1.0f;
  int32_t zero_point = 0;
};

// Activation qparams for the real range [lo, hi]. The range is first widened to contain 0 so
// that 0 is exactly representable (zero padding, ReLU). Asymmetric: all 256 levels span the
// range and zero_point = -128 - round(lo / scale); symmetric: zero_point = 0 and
// scale = max(|lo|, |hi|) / 127. An all-zero range gets scale 1 (every value is exactly 0).
AffineParams choose_activation_qparams(float lo, float hi, bool symmetric);

// Symmetric weight scale for the largest magnitude in a tensor or channel (1 for all zeros),
// codes in [-max_code, max_code].
float choose_weight_scale(float absmax, int32_t max_code = kWeightMax);

// `real` (>= 0, < 2^31) as M0 * 2^shift / 2^31 with M0 in [2^30, 2^31): frexp splits off the
// power of two, the mantissa rounds to 31 bits. Real values too small to represent (shift
// below -31) become 0. Throws octet::Error for negative, non-finite or too large values.
kernels::QuantizedMultiplier quantize_multiplier(double real);

// The real number a QuantizedMultiplier stands for (for reports and tests).
double dequantize_multiplier(kernels::QuantizedMultiplier multiplier);

// A fused activation's real bounds [low, high] (±inf: none) as codes of the output, within
// [-128, 127]. ReLU gives [zero_point, 127].
struct QuantizedRange {
  int32_t low = kInt8Min;
  int32_t high = kInt8Max;
};
QuantizedRange quantized_clamp(AffineParams output, float low, float high);

// QAdd parameters for y = a + b (TFLite's scheme, left shift 20): both inputs are brought to
// the common scale 2*max(s_a, s_b) / 2^20 by multipliers < 1, summed, then rescaled to s_y.
kernels::QAddParams make_qadd_params(AffineParams a, AffineParams b, AffineParams y, int32_t low,
                                     int32_t high);

}  // namespace octet::quant
