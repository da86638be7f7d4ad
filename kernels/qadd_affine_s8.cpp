#include "kernels/qadd_affine_s8.hpp"

#include <cmath>

namespace octet::kernels {
namespace {

double real_multiplier(QuantizedMultiplier m) { return std::ldexp(static_cast<double>(m.multiplier), m.shift - 31); }

// Zero, or a normal float with room below it: sums of such terms stay far from the subnormals.
bool safe_in_float(float x) { return x == 0 || std::fabs(x) >= std::ldexp(1.0f, -60); }

}  // namespace

std::optional<QAddAffineForm> qadd_affine_form(const QAddParams& p) {
  const double output = real_multiplier(p.output_multiplier) * 4096.0;
  const double a = std::ldexp(real_multiplier(p.a_multiplier), p.left_shift) * output;
  const double b = std::ldexp(real_multiplier(p.b_multiplier), p.left_shift) * output;
  const double offset = -(p.a_zero_point * a + p.b_zero_point * b) + 4096.0 * (p.output_zero_point + 0.5) + 2.0;
  QAddAffineForm form;
  form.a_coefficient = static_cast<float>(a);
  form.b_coefficient = static_cast<float>(b);
  form.offset = static_cast<float>(offset);
  form.low = p.low;
  form.high = p.high;
  if (!safe_in_float(form.a_coefficient) || !safe_in_float(form.b_coefficient) || !safe_in_float(form.offset))
    return std::nullopt;
  // Near the saturated ends float's coarser steps do not matter (the clamp decides); elsewhere
  // the exhaustive check in the SIMD paths does.
  const double largest = 255.0 * (std::fabs(a) + std::fabs(b)) + std::fabs(offset);
  if (largest >= 16777216.0) return std::nullopt;
  return form;
}

}  // namespace octet::kernels
