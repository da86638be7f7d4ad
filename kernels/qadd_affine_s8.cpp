#include "kernels/qadd_affine_s8.hpp"

#include <cmath>
#include <vector>

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

bool qadd_affine_form_matches(const QAddAffineForm& form, const int8_t* table, QAddAffineKernel kernel,
                              int64_t max_table_lanes) {
  // Pair i is (a, b) = (i / 256 - 128, i % 256 - 128): the table's own order.
  std::vector<int8_t> a(65536), b(65536), got(65536);
  for (int i = 0; i < 65536; ++i) {
    a[static_cast<size_t>(i)] = static_cast<int8_t>(i / 256 - 128);
    b[static_cast<size_t>(i)] = static_cast<int8_t>(i % 256 - 128);
  }
  if (kernel(65536, a.data(), b.data(), 65536, form, table, got.data(), 1) > max_table_lanes) return false;
  for (int i = 0; i < 65536; ++i)
    if (got[static_cast<size_t>(i)] != table[i]) return false;
  // The broadcast path computes b's term once instead of per lane: the same operation on the
  // same values, checked here on every b anyway (b's first 256 entries are every code).
  std::vector<int8_t> row(256);
  for (int bv = 0; bv < 256; ++bv) {
    const int8_t b_code = static_cast<int8_t>(bv - 128);
    kernel(256, b.data(), &b_code, 1, form, table, row.data(), 1);
    for (int av = 0; av < 256; ++av)
      if (row[static_cast<size_t>(av)] != table[av * 256 + bv]) return false;
  }
  return true;
}

}  // namespace octet::kernels
