// Octet's requantization primitives against gemmlowp's fixedpoint.h (the reference TFLite's
// integer kernels are built on), on all boundary values and millions of random ones; and the
// multiplier decomposition against a double-precision oracle.
#include <gemmlowp/fixedpoint/fixedpoint.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "graph/error.hpp"
#include "kernels/ref/quantize_ref.hpp"
#include "kernels/requantize.hpp"
#include "quant/qparams.hpp"

using namespace octet;

namespace {

std::vector<int32_t> boundary_values() {
  const int32_t min = std::numeric_limits<int32_t>::min(), max = std::numeric_limits<int32_t>::max();
  std::vector<int32_t> values = {min, min + 1, min + 2, -1, 0, 1, 2, max - 1, max, -(1 << 30), (1 << 30),
                                 (1 << 30) - 1, -(1 << 30) + 1, 1 << 15, -(1 << 15), 12345, -12345};
  for (int bit = 0; bit < 31; ++bit) {
    const int32_t p = int32_t{1} << bit;
    for (int32_t v : {p, p - 1, p + 1, -p, -p + 1, -p - 1}) values.push_back(v);
  }
  return values;
}

TEST(FixedPoint, SaturatingRoundingDoublingHighMulMatchesGemmlowpOnBoundaries) {
  const auto values = boundary_values();
  for (int32_t a : values)
    for (int32_t b : values)
      ASSERT_EQ(kernels::saturating_rounding_doubling_high_mul(a, b), gemmlowp::SaturatingRoundingDoublingHighMul(a, b))
          << a << " * " << b;
}

TEST(FixedPoint, SaturatingRoundingDoublingHighMulMatchesGemmlowpOnRandomValues) {
  std::mt19937 rng(1234);
  std::uniform_int_distribution<int32_t> any(std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max());
  for (int i = 0; i < 4'000'000; ++i) {
    const int32_t a = any(rng), b = any(rng);
    ASSERT_EQ(kernels::saturating_rounding_doubling_high_mul(a, b), gemmlowp::SaturatingRoundingDoublingHighMul(a, b))
        << a << " * " << b;
  }
}

TEST(FixedPoint, RoundingDivideByPotMatchesGemmlowp) {
  const auto values = boundary_values();
  for (int exponent = 0; exponent <= 31; ++exponent)
    for (int32_t x : values)
      ASSERT_EQ(kernels::rounding_divide_by_pot(x, exponent), gemmlowp::RoundingDivideByPOT(x, exponent))
          << x << " >> " << exponent;
  std::mt19937 rng(99);
  std::uniform_int_distribution<int32_t> any(std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max());
  std::uniform_int_distribution<int> exponents(0, 31);
  for (int i = 0; i < 4'000'000; ++i) {
    const int32_t x = any(rng);
    const int exponent = exponents(rng);
    ASSERT_EQ(kernels::rounding_divide_by_pot(x, exponent), gemmlowp::RoundingDivideByPOT(x, exponent));
  }
}

// TFLite's MultiplyByQuantizedMultiplier written with gemmlowp's primitives (where its left
// shift cannot overflow, i.e. the only domain where it is defined).
int32_t tflite_multiply(int32_t x, kernels::QuantizedMultiplier m) {
  const int left = m.shift > 0 ? m.shift : 0, right = m.shift > 0 ? 0 : -m.shift;
  return gemmlowp::RoundingDivideByPOT(gemmlowp::SaturatingRoundingDoublingHighMul(x * (1 << left), m.multiplier), right);
}

TEST(FixedPoint, MultiplyByQuantizedMultiplierMatchesTfliteComposition) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> log_multiplier(-20.0, 3.0);
  std::uniform_int_distribution<int32_t> accumulator(-(1 << 24), 1 << 24);
  for (int i = 0; i < 1'000'000; ++i) {
    const kernels::QuantizedMultiplier m = quant::quantize_multiplier(std::exp2(log_multiplier(rng)));
    const int32_t x = accumulator(rng);
    if (m.shift > 0 && std::abs(static_cast<int64_t>(x)) * (int64_t{1} << m.shift) > std::numeric_limits<int32_t>::max())
      continue;
    ASSERT_EQ(kernels::multiply_by_quantized_multiplier(x, m), tflite_multiply(x, m));
  }
}

TEST(FixedPoint, MultiplyByQuantizedMultiplierIsWithinOneOfTheExactProduct) {
  // The fixed-point result is the real product rounded, up to the ±1 the two roundings allow.
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> real(1e-6, 1.0);
  std::uniform_int_distribution<int32_t> accumulator(-(1 << 22), 1 << 22);
  for (int i = 0; i < 1'000'000; ++i) {
    const double multiplier = real(rng);
    const int32_t x = accumulator(rng);
    const int32_t got = kernels::multiply_by_quantized_multiplier(x, quant::quantize_multiplier(multiplier));
    ASSERT_LE(std::fabs(got - static_cast<double>(x) * multiplier), 1.0) << x << " * " << multiplier;
  }
}

// The one-step form the SIMD epilogues use against the two roundings plus the zero point, on
// every boundary accumulator, every right shift, boundary and random multipliers (m = 2^30
// makes every odd accumulator an exact tie of the first rounding) and the zero points' ends.
TEST(FixedPoint, OneStepRoundingEqualsTheTwoRoundings) {
  std::vector<int32_t> accumulators = boundary_values();
  std::mt19937 rng(21);
  std::uniform_int_distribution<int32_t> any(std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max());
  for (int i = 0; i < 300; ++i) accumulators.push_back(any(rng));
  std::vector<int32_t> multipliers = {0, 1, 3, 1 << 29, 1 << 30, (1 << 30) + 1, 1518500250, std::numeric_limits<int32_t>::max(),
                                      std::numeric_limits<int32_t>::max() - 1};
  std::uniform_int_distribution<int32_t> mantissa(1 << 30, std::numeric_limits<int32_t>::max());
  for (int i = 0; i < 20; ++i) multipliers.push_back(mantissa(rng));
  int64_t checked = 0;
  for (int right = 0; right <= 31; ++right)
    for (int32_t multiplier : multipliers)
      for (int32_t zero_point : {-128, -1, 0, 1, 127}) {
        const kernels::QuantizedMultiplier m{multiplier, -right};
        const kernels::OneStepRounding r = kernels::one_step_rounding(m, zero_point);
        for (int32_t x : accumulators) {
          const int64_t two_steps =
              static_cast<int64_t>(kernels::multiply_by_quantized_multiplier(x, m)) + zero_point;
          if (two_steps > std::numeric_limits<int32_t>::max() || two_steps < std::numeric_limits<int32_t>::min())
            continue;  // the int32 output stage is undefined there (and never reached: it is clamped to int8)
          ASSERT_EQ(kernels::one_step_requantize(x, multiplier, r), two_steps)
              << x << " * " << multiplier << " >> " << right << " + " << zero_point;
          ++checked;
        }
      }
  EXPECT_GT(checked, 1'000'000);
  // Random accumulators and multipliers in bulk.
  std::uniform_int_distribution<int> rights(0, 31), zero_points(-128, 127);
  for (int i = 0; i < 2'000'000; ++i) {
    const kernels::QuantizedMultiplier m{mantissa(rng), -rights(rng)};
    const int32_t x = any(rng), zero_point = zero_points(rng);
    const int64_t two_steps = static_cast<int64_t>(kernels::multiply_by_quantized_multiplier(x, m)) + zero_point;
    if (two_steps > std::numeric_limits<int32_t>::max() || two_steps < std::numeric_limits<int32_t>::min()) continue;
    ASSERT_EQ(kernels::one_step_requantize(x, m.multiplier, kernels::one_step_rounding(m, zero_point)), two_steps);
  }
}

TEST(FixedPoint, LeftShiftSaturatesInsteadOfOverflowing) {
  // M = 1000 = 0.9765625 * 2^10: x << 10 overflows int32 for large x. The shifted value
  // saturates, so the result keeps its sign and equals the saturated value times the mantissa.
  const kernels::QuantizedMultiplier m = quant::quantize_multiplier(1000.0);
  ASSERT_EQ(m.shift, 10);
  const int32_t max = std::numeric_limits<int32_t>::max(), min = std::numeric_limits<int32_t>::min();
  EXPECT_EQ(kernels::multiply_by_quantized_multiplier(max / 2, m),
            kernels::saturating_rounding_doubling_high_mul(max, m.multiplier));
  EXPECT_EQ(kernels::multiply_by_quantized_multiplier(min / 2, m),
            kernels::saturating_rounding_doubling_high_mul(min, m.multiplier));
  EXPECT_GT(kernels::multiply_by_quantized_multiplier(max / 2, m), 2'000'000'000);
  EXPECT_LT(kernels::multiply_by_quantized_multiplier(min / 2, m), -2'000'000'000);
  // Values that fit are exact products.
  EXPECT_EQ(kernels::multiply_by_quantized_multiplier(1000, m), 1'000'000);
}

TEST(QuantizeMultiplier, MantissaIsNormalizedAndValueExactToDoublePrecisionOracle) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> log_multiplier(-30.0, 29.0);
  for (int i = 0; i < 200'000; ++i) {
    const double real = std::exp2(log_multiplier(rng));
    const kernels::QuantizedMultiplier m = quant::quantize_multiplier(real);
    ASSERT_GE(m.multiplier, int32_t{1} << 30);
    ASSERT_LT(static_cast<int64_t>(m.multiplier), int64_t{1} << 31);
    // 31-bit mantissa: relative error at most 2^-31.
    ASSERT_LE(std::fabs(quant::dequantize_multiplier(m) - real) / real, std::ldexp(1.0, -31));
  }
}

TEST(QuantizeMultiplier, EdgeCases) {
  EXPECT_EQ(quant::quantize_multiplier(0.0).multiplier, 0);
  const auto one = quant::quantize_multiplier(1.0);
  EXPECT_EQ(one.multiplier, int32_t{1} << 30);
  EXPECT_EQ(one.shift, 1);
  // A mantissa that rounds up to 1.0 renormalizes.
  const auto almost_one = quant::quantize_multiplier(1.0 - 1e-12);
  EXPECT_EQ(almost_one.multiplier, int32_t{1} << 30);
  EXPECT_EQ(almost_one.shift, 1);
  EXPECT_EQ(quant::quantize_multiplier(1e-12).multiplier, 0);  // below 2^-31 steps
  EXPECT_THROW(quant::quantize_multiplier(-1.0), octet::Error);
  EXPECT_THROW(quant::quantize_multiplier(std::nan("")), octet::Error);
  EXPECT_THROW(quant::quantize_multiplier(1e12), octet::Error);
}

TEST(ChooseQParams, AsymmetricRangeKeepsZeroExactAndCoversTheRange) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> bound(-10.0f, 10.0f);
  for (int i = 0; i < 100'000; ++i) {
    float lo = bound(rng), hi = bound(rng);
    if (lo > hi) std::swap(lo, hi);
    const quant::AffineParams p = quant::choose_activation_qparams(lo, hi, false);
    ASSERT_GT(p.scale, 0.0f);
    ASSERT_GE(p.zero_point, -128);
    ASSERT_LE(p.zero_point, 127);
    // Real 0 maps exactly to the zero point.
    ASSERT_EQ(kernels::quantize_one_s8(0.0f, p.scale, p.zero_point), p.zero_point);
    // The ends of the (zero-widened) range are representable within half a step.
    const double low = std::min(lo, 0.0f), high = std::max(hi, 0.0f);
    ASSERT_LE((-128 - p.zero_point) * static_cast<double>(p.scale), low + p.scale * 0.5 + 1e-6);
    ASSERT_GE((127 - p.zero_point) * static_cast<double>(p.scale), high - p.scale * 0.5 - 1e-6);
  }
}

TEST(ChooseQParams, SymmetricAndDegenerateRanges) {
  const quant::AffineParams s = quant::choose_activation_qparams(-2.0f, 5.0f, true);
  EXPECT_EQ(s.zero_point, 0);
  EXPECT_FLOAT_EQ(s.scale, 5.0f / 127.0f);
  const quant::AffineParams zero = quant::choose_activation_qparams(0.0f, 0.0f, false);
  EXPECT_EQ(zero.zero_point, 0);
  EXPECT_GT(zero.scale, 0.0f);
  const quant::AffineParams positive = quant::choose_activation_qparams(2.0f, 3.0f, false);  // widened to [0, 3]
  EXPECT_EQ(positive.zero_point, -128);
  EXPECT_FLOAT_EQ(positive.scale, 3.0f / 255.0f);
  EXPECT_THROW(quant::choose_activation_qparams(1.0f, std::nanf(""), false), octet::Error);
  EXPECT_FLOAT_EQ(quant::choose_weight_scale(0.0f), 1.0f);
  EXPECT_FLOAT_EQ(quant::choose_weight_scale(12.7f), 0.1f);
}

}  // namespace
