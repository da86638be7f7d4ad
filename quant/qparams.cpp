#include "quant/qparams.hpp"

#include <algorithm>
#include <cmath>

#include "graph/error.hpp"

namespace octet::quant {

AffineParams choose_activation_qparams(float lo, float hi, bool symmetric) {
  if (!std::isfinite(lo) || !std::isfinite(hi) || lo > hi)
    throw Error("invalid activation range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  lo = std::min(lo, 0.0f);
  hi = std::max(hi, 0.0f);
  AffineParams params;
  if (symmetric) {
    const float bound = std::max(-lo, hi);
    params.scale = bound > 0.0f ? bound / static_cast<float>(kInt8Max) : 1.0f;
    params.zero_point = 0;
    return params;
  }
  if (hi - lo <= 0.0f) return params;  // all zero: scale 1, zero point 0
  params.scale = static_cast<float>((static_cast<double>(hi) - lo) / (kInt8Max - kInt8Min));
  // The zero point is the code of real 0; rounding it keeps 0 exact at a tiny cost in range.
  const double zero_point = kInt8Min - std::nearbyint(static_cast<double>(lo) / params.scale);
  params.zero_point = static_cast<int32_t>(std::clamp(zero_point, double{kInt8Min}, double{kInt8Max}));
  return params;
}

float choose_weight_scale(float absmax, int32_t max_code) {
  if (!std::isfinite(absmax)) throw Error("non-finite weight magnitude");
  return absmax > 0.0f ? absmax / static_cast<float>(max_code) : 1.0f;
}

kernels::QuantizedMultiplier quantize_multiplier(double real) {
  if (!std::isfinite(real) || real < 0.0)
    throw Error("requantization multiplier " + std::to_string(real) + " is not a finite non-negative number");
  kernels::QuantizedMultiplier result;
  if (real == 0.0) return result;
  int exponent = 0;
  const double mantissa = std::frexp(real, &exponent);  // real = mantissa * 2^exponent, mantissa in [0.5, 1)
  int64_t q = static_cast<int64_t>(std::llround(mantissa * static_cast<double>(int64_t{1} << 31)));
  if (q == (int64_t{1} << 31)) {  // mantissa rounded up to 1.0
    q /= 2;
    ++exponent;
  }
  if (exponent < -31) return result;  // below the smallest representable step: multiply by 0
  if (exponent > 30) throw Error("requantization multiplier " + std::to_string(real) + " is too large");
  result.multiplier = static_cast<int32_t>(q);
  result.shift = exponent;
  return result;
}

double dequantize_multiplier(kernels::QuantizedMultiplier m) {
  return static_cast<double>(m.multiplier) * std::ldexp(1.0, m.shift - 31);
}

QuantizedRange quantized_clamp(AffineParams output, float low, float high) {
  auto code = [&](float real, int32_t fallback) {
    if (!std::isfinite(real)) return fallback;
    const double value = output.zero_point + std::nearbyint(static_cast<double>(real) / output.scale);
    return static_cast<int32_t>(std::clamp(value, double{kInt8Min}, double{kInt8Max}));
  };
  return {code(low, kInt8Min), code(high, kInt8Max)};
}

kernels::QAddParams make_qadd_params(AffineParams a, AffineParams b, AffineParams y, int32_t low,
                                     int32_t high) {
  kernels::QAddParams params;
  params.left_shift = 20;
  const double twice_max_scale = 2.0 * std::max(a.scale, b.scale);
  params.a_zero_point = a.zero_point;
  params.b_zero_point = b.zero_point;
  params.output_zero_point = y.zero_point;
  params.a_multiplier = quantize_multiplier(a.scale / twice_max_scale);
  params.b_multiplier = quantize_multiplier(b.scale / twice_max_scale);
  params.output_multiplier =
      quantize_multiplier(twice_max_scale / (static_cast<double>(1 << params.left_shift) * y.scale));
  params.low = low;
  params.high = high;
  return params;
}

}  // namespace octet::quant
