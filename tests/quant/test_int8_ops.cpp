// int8 reference kernels against a float simulation (fake quantization): they must agree within
// one output LSB. QAdd gets the hardest cases: input scales 100x apart and saturating sums.
#include <gtest/gtest.h>

#include <cmath>
#include <algorithm>
#include <random>
#include <vector>

#include "kernels/ref/qadd_s8_ref.hpp"
#include "kernels/ref/qconv2d_s8_ref.hpp"
#include "kernels/ref/qgemm_s8_ref.hpp"
#include "kernels/ref/qpool2d_s8_ref.hpp"
#include "kernels/ref/quantize_ref.hpp"
#include "quant/qparams.hpp"
#include "quant/quantizer.hpp"

using namespace octet;
using quant::AffineParams;

namespace {

// Every pair of int8 codes: the integer QAdd equals the quantized real sum within 1 LSB.
void expect_qadd_matches_simulation(AffineParams a, AffineParams b, AffineParams y, int32_t low, int32_t high,
                                    double min_exact_share) {
  const kernels::QAddParams params = quant::make_qadd_params(a, b, y, low, high);
  int64_t exact = 0, total = 0;
  for (int qa = -128; qa <= 127; ++qa) {
    for (int qb = -128; qb <= 127; ++qb) {
      const double real = (qa - a.zero_point) * static_cast<double>(a.scale) + (qb - b.zero_point) * static_cast<double>(b.scale);
      int32_t expected = static_cast<int32_t>(std::nearbyint(real / y.scale)) + y.zero_point;
      expected = std::min(std::max(expected, low), high);
      const int32_t got = kernels::qadd_one_s8(static_cast<int8_t>(qa), static_cast<int8_t>(qb), params);
      ASSERT_LE(std::abs(got - expected), 1) << "a=" << qa << " b=" << qb << " real=" << real;
      exact += got == expected;
      ++total;
    }
  }
  EXPECT_GE(static_cast<double>(exact) / static_cast<double>(total), min_exact_share);
}

TEST(QAdd, InputScalesOneHundredTimesApart) {
  const AffineParams fine{0.002f, 7}, coarse{0.2f, -3};
  const AffineParams output = quant::choose_activation_qparams(-26.0f, 26.0f, false);
  expect_qadd_matches_simulation(fine, coarse, output, -128, 127, 0.99);
  expect_qadd_matches_simulation(coarse, fine, output, -128, 127, 0.99);
}

TEST(QAdd, FinerBranchIsNotLost) {
  // Output as fine as the fine input: every step of the fine input must move the output.
  const AffineParams fine{0.01f, 0}, coarse{1.0f, 0}, output{0.01f, 0};
  const kernels::QAddParams params = quant::make_qadd_params(fine, coarse, output, -128, 127);
  for (int qa = -50; qa <= 50; ++qa)
    EXPECT_EQ(kernels::qadd_one_s8(static_cast<int8_t>(qa), 0, params), qa);
}

TEST(QAdd, SaturatingSumsClampToInt8AndFusedRelu) {
  const AffineParams a{0.05f, 0}, b{0.05f, 0}, y{0.05f, 10};
  expect_qadd_matches_simulation(a, b, y, -128, 127, 0.999);
  const kernels::QAddParams params = quant::make_qadd_params(a, b, y, -128, 127);
  EXPECT_EQ(kernels::qadd_one_s8(127, 127, params), 127);
  EXPECT_EQ(kernels::qadd_one_s8(-128, -128, params), -128);
  // Fused ReLU: clamp at the output zero point.
  const quant::QuantizedRange relu = quant::quantized_clamp(y, 0.0f, INFINITY);
  EXPECT_EQ(relu.low, 10);
  EXPECT_EQ(relu.high, 127);
  const kernels::QAddParams with_relu = quant::make_qadd_params(a, b, y, relu.low, relu.high);
  EXPECT_EQ(kernels::qadd_one_s8(-100, -20, with_relu), 10);
  expect_qadd_matches_simulation(a, b, y, relu.low, relu.high, 0.999);
}

TEST(QuantizedClamp, Relu6InQuantizedUnits) {
  const AffineParams y{6.0f / 255.0f, -128};
  const quant::QuantizedRange relu6 = quant::quantized_clamp(y, 0.0f, 6.0f);
  EXPECT_EQ(relu6.low, -128);
  EXPECT_EQ(relu6.high, 127);
  // A wider output range: 6 / 0.05 = 120 codes above the zero point.
  const quant::QuantizedRange wide = quant::quantized_clamp(AffineParams{0.05f, -128}, 0.0f, 6.0f);
  EXPECT_EQ(wide.low, -128);
  EXPECT_EQ(wide.high, -8);
  // No activation: the whole int8 range.
  const quant::QuantizedRange none = quant::quantized_clamp(y, -INFINITY, INFINITY);
  EXPECT_EQ(none.low, -128);
  EXPECT_EQ(none.high, 127);
}

struct ConvCase {
  kernels::Conv2dShape shape;
  bool per_channel;
};

// Integer convolution vs float simulation: dequantized inputs and weights, exact float sum plus
// the real bias, then quantized to the output grid. At most 1 LSB apart (the requantization
// multiplier carries 31 bits; the two roundings can differ at exact ties).
TEST(QConv, AgreesWithFakeQuantSimulationWithinOneLsb) {
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> code(-128, 127), weight_code(-127, 127);
  std::uniform_real_distribution<float> scale(0.001f, 0.1f);
  const std::vector<ConvCase> cases = {
      {{1, 3, 7, 9, 5, 7, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1}, true},
      {{2, 4, 8, 8, 6, 4, 4, 3, 3, 2, 2, 1, 1, 1, 1, 2}, false},
      {{1, 6, 5, 6, 6, 5, 6, 3, 3, 1, 1, 1, 1, 1, 1, 6}, true},   // depthwise
      {{1, 8, 6, 6, 5, 6, 6, 1, 1, 1, 1, 1, 1, 0, 0, 1}, true},   // 1x1
      {{1, 2, 9, 9, 3, 5, 5, 3, 3, 2, 2, 2, 2, 2, 2, 1}, false},  // dilated, padded, strided
  };
  int64_t checked = 0, exact = 0;
  for (const ConvCase& c : cases) {
    const kernels::Conv2dShape& s = c.shape;
    const int64_t per_group = s.in_channels / s.groups;
    std::vector<int8_t> x(static_cast<size_t>(s.batch * s.in_channels * s.in_h * s.in_w));
    std::vector<int8_t> w(static_cast<size_t>(s.out_channels * per_group * s.kernel_h * s.kernel_w));
    for (auto& v : x) v = static_cast<int8_t>(code(rng));
    for (auto& v : w) v = static_cast<int8_t>(weight_code(rng));
    const AffineParams in{scale(rng), code(rng) / 2};
    std::vector<float> w_scales(c.per_channel ? static_cast<size_t>(s.out_channels) : 1);
    for (auto& v : w_scales) v = scale(rng);
    std::vector<float> bias_real(static_cast<size_t>(s.out_channels));
    for (auto& v : bias_real) v = std::uniform_real_distribution<float>(-1.0f, 1.0f)(rng);
    int64_t saturated = 0;
    std::vector<int32_t> bias = quant::quantize_bias(bias_real.data(), s.out_channels, in.scale, w_scales, saturated);
    // Output range from the float results so the output grid fits them.
    const int64_t plane = s.out_h * s.out_w;
    std::vector<double> real(static_cast<size_t>(s.batch * s.out_channels * plane));
    for (int64_t n = 0; n < s.batch; ++n)
      for (int64_t oc = 0; oc < s.out_channels; ++oc)
        for (int64_t oy = 0; oy < s.out_h; ++oy)
          for (int64_t ox = 0; ox < s.out_w; ++ox) {
            const float ws = w_scales[c.per_channel ? static_cast<size_t>(oc) : 0];
            double sum = bias[static_cast<size_t>(oc)] * static_cast<double>(in.scale) * ws;
            for (int64_t ic = 0; ic < per_group; ++ic)
              for (int64_t ky = 0; ky < s.kernel_h; ++ky)
                for (int64_t kx = 0; kx < s.kernel_w; ++kx) {
                  const int64_t iy = oy * s.stride_h + ky * s.dilation_h - s.pad_top;
                  const int64_t ix = ox * s.stride_w + kx * s.dilation_w - s.pad_left;
                  if (iy < 0 || iy >= s.in_h || ix < 0 || ix >= s.in_w) continue;
                  const int64_t channel = (oc / (s.out_channels / s.groups)) * per_group + ic;
                  const double xr = (x[static_cast<size_t>(((n * s.in_channels + channel) * s.in_h + iy) * s.in_w + ix)] -
                                     in.zero_point) * static_cast<double>(in.scale);
                  const double wr = w[static_cast<size_t>(((oc * per_group + ic) * s.kernel_h + ky) * s.kernel_w + kx)] *
                                    static_cast<double>(ws);
                  sum += xr * wr;
                }
            real[static_cast<size_t>((n * s.out_channels + oc) * plane + oy * s.out_w + ox)] = sum;
          }
    const auto [lo, hi] = std::minmax_element(real.begin(), real.end());
    const AffineParams out = quant::choose_activation_qparams(static_cast<float>(*lo), static_cast<float>(*hi), false);
    std::vector<kernels::QuantizedMultiplier> multipliers;
    for (float ws : w_scales) multipliers.push_back(quant::quantize_multiplier(static_cast<double>(in.scale) * ws / out.scale));
    const kernels::QuantizedOutputStage stage{bias.data(), multipliers.data(), c.per_channel, out.zero_point, -128, 127};
    std::vector<int8_t> y(real.size());
    kernels::qconv2d_s8_ref(s, x.data(), in.zero_point, w.data(), stage, y.data());
    for (size_t i = 0; i < y.size(); ++i) {
      const int32_t expected = std::clamp(static_cast<int32_t>(std::nearbyint(real[i] / out.scale)) + out.zero_point, -128, 127);
      ASSERT_LE(std::abs(y[i] - expected), 1) << "element " << i;
      exact += y[i] == expected;
      ++checked;
    }
  }
  EXPECT_GE(static_cast<double>(exact) / static_cast<double>(checked), 0.99);
}

TEST(QGemm, PerChannelWeightsWithAnAllZeroChannel) {
  // Channel 1's weights are all zero: its scale falls back to 1, its output is the bias alone.
  const std::vector<float> weights = {0.5f, -0.25f, 1.0f, 0.0f, 0.0f, 0.0f, -2.0f, 0.75f, 0.1f};
  std::vector<float> scales;
  const std::vector<int8_t> codes = quant::quantize_weights(weights.data(), 3, 3, true, scales);
  ASSERT_EQ(scales.size(), 3u);
  EXPECT_FLOAT_EQ(scales[1], 1.0f);
  for (int i = 3; i < 6; ++i) EXPECT_EQ(codes[static_cast<size_t>(i)], 0);
  EXPECT_EQ(codes[2], 127);
  EXPECT_EQ(codes[6], -127);
  const AffineParams in{0.02f, -10}, out{0.05f, 3};
  const std::vector<float> bias_real = {0.1f, 0.6f, -0.2f};
  int64_t saturated = 0;
  const std::vector<int32_t> bias = quant::quantize_bias(bias_real.data(), 3, in.scale, scales, saturated);
  EXPECT_EQ(saturated, 0);
  std::vector<kernels::QuantizedMultiplier> multipliers;
  for (float ws : scales) multipliers.push_back(quant::quantize_multiplier(static_cast<double>(in.scale) * ws / out.scale));
  const kernels::QuantizedOutputStage stage{bias.data(), multipliers.data(), true, out.zero_point, -128, 127};
  const std::vector<int8_t> a = {40, -90, 17};
  std::vector<int8_t> y(3);
  kernels::qgemm_s8_ref(1, 3, 3, a.data(), in.zero_point, codes.data(), stage, y.data());
  EXPECT_EQ(y[1], quant::quantize_value(0.6f, out));
  double real0 = bias_real[0];
  for (int k = 0; k < 3; ++k) real0 += (a[static_cast<size_t>(k)] - in.zero_point) * 0.02 * codes[static_cast<size_t>(k)] * scales[0];
  EXPECT_NEAR(y[0], std::nearbyint(real0 / 0.05) + 3, 1.0);
}

TEST(Quantize, RoundsHalfToEvenAndSaturates) {
  const AffineParams p{0.5f, 0};
  EXPECT_EQ(quant::quantize_value(0.25f, p), 0);   // 0.5 -> 0
  EXPECT_EQ(quant::quantize_value(0.75f, p), 2);   // 1.5 -> 2
  EXPECT_EQ(quant::quantize_value(-0.75f, p), -2);
  EXPECT_EQ(quant::quantize_value(1e9f, p), 127);
  EXPECT_EQ(quant::quantize_value(-1e9f, p), -128);
  EXPECT_EQ(quant::quantize_value(INFINITY, p), 127);
  EXPECT_EQ(quant::quantize_value(-INFINITY, p), -128);
  // Dequantize is exact; fake quantization is idempotent.
  const AffineParams q{0.037f, -17};
  for (int code = -128; code <= 127; ++code) {
    const float real = quant::dequantize_value(static_cast<int8_t>(code), q);
    EXPECT_EQ(quant::quantize_value(real, q), code);
    EXPECT_EQ(quant::fake_quantize_value(real, q), real);
  }
}

TEST(QAveragePool, IntegerRoundingMatchesRealMean) {
  // Same scale in and out: the integer mean of the codes, rounded half away from zero.
  EXPECT_EQ(kernels::rounded_divide(5, 2), 3);
  EXPECT_EQ(kernels::rounded_divide(-5, 2), -3);
  EXPECT_EQ(kernels::rounded_divide(4, 3), 1);
  EXPECT_EQ(kernels::rounded_divide(-4, 3), -1);
  std::mt19937 rng(8);
  std::uniform_int_distribution<int> code(-128, 127);
  std::vector<int8_t> x(2 * 3 * 7 * 7), y(2 * 3);
  for (auto& v : x) v = static_cast<int8_t>(code(rng));
  kernels::global_average_pool_s8_ref(6, 49, x.data(), y.data());
  for (int p = 0; p < 6; ++p) {
    double sum = 0;
    for (int i = 0; i < 49; ++i) sum += x[static_cast<size_t>(p * 49 + i)];
    EXPECT_LE(std::fabs(y[static_cast<size_t>(p)] - sum / 49.0), 0.5 + 1e-9);
  }
}

}  // namespace
