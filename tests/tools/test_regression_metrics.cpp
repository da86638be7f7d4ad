// RegressionMetrics on tiny arrays whose metrics are computed by hand (values chosen as binary
// fractions, so every difference is exact).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "graph/error.hpp"
#include "tools/octet/regression_metrics.hpp"

namespace octet::cli {
namespace {

ErrorSums sums_of(const std::vector<float>& output, const std::vector<float>& reference) {
  EXPECT_EQ(output.size(), reference.size());
  return ErrorSums::of(output.data(), reference.data(), output.size());
}

TEST(RegressionMetrics, HandComputedSample) {
  // |diff| = 0.25, 0.25, 0.125, 0.25; the 0.0 target is left out of abs_rel.
  RegressionMetrics m;
  m.add(0, sums_of({0.5f, 0.25f, 0.0f, 0.75f}, {0.25f, 0.0f, 0.125f, 0.5f}));
  EXPECT_EQ(m.samples(), 1u);
  EXPECT_EQ(m.elements(), 4u);
  EXPECT_DOUBLE_EQ(m.mae(), 0.875 / 4);
  EXPECT_DOUBLE_EQ(m.mse(), (3 * 0.0625 + 0.015625) / 4);
  EXPECT_EQ(m.abs_rel_elements(), 3u);
  EXPECT_DOUBLE_EQ(m.abs_rel(), (0.25 / 0.25 + 0.125 / 0.125 + 0.25 / 0.5) / 3);
  EXPECT_DOUBLE_EQ(m.psnr(), 10.0 * std::log10(4 / 0.203125));  // 12.943 dB
}

TEST(RegressionMetrics, MeansAreOverAllElementsNotPerSample) {
  RegressionMetrics m;
  m.add(0, sums_of({1.0f, 1.0f}, {0.5f, 0.5f}));                          // |diff| 0.5, 0.5
  m.add(1, sums_of({0.5f, 0.5f, 0.5f, 0.5f}, {0.5f, 0.5f, 0.5f, 0.5f}));  // exact
  EXPECT_EQ(m.samples(), 2u);
  EXPECT_EQ(m.elements(), 6u);
  EXPECT_DOUBLE_EQ(m.mae(), 1.0 / 6);  // not (0.5 + 0) / 2
  EXPECT_DOUBLE_EQ(m.mse(), 0.5 / 6);
  EXPECT_DOUBLE_EQ(m.abs_rel(), 2.0 / 6);
}

TEST(RegressionMetrics, ReferencesAtOrBelowTheThresholdAreLeftOutOfAbsRel) {
  RegressionMetrics m;
  // 0.049 and 0 are excluded even though their relative errors would be huge; 0.051 counts.
  m.add(0, sums_of({0.549f, 1.0f, 0.102f}, {0.049f, 0.0f, 0.051f}));
  EXPECT_EQ(m.abs_rel_elements(), 1u);
  EXPECT_NEAR(m.abs_rel(), 1.0, 1e-6);
  EXPECT_NEAR(m.mae(), (0.5 + 1.0 + 0.051) / 3, 1e-7);

  RegressionMetrics dark;
  dark.add(0, sums_of({0.25f, 0.0f}, {0.0f, 0.04f}));
  EXPECT_EQ(dark.abs_rel_elements(), 0u);
  EXPECT_TRUE(std::isnan(dark.abs_rel()));
  EXPECT_DOUBLE_EQ(dark.mae(), (0.25 + static_cast<double>(0.04f)) / 2);
}

TEST(RegressionMetrics, IdenticalOutputsGiveZeroErrorAndInfinitePsnr) {
  RegressionMetrics m;
  const std::vector<float> values = {0.0f, 0.3f, 0.7f, 1.0f};
  m.add(0, sums_of(values, values));
  EXPECT_EQ(m.mae(), 0.0);
  EXPECT_EQ(m.mse(), 0.0);
  EXPECT_EQ(m.abs_rel(), 0.0);
  EXPECT_TRUE(std::isinf(m.psnr()) && m.psnr() > 0);
}

TEST(RegressionMetrics, PsnrUsesPeakOne) {
  RegressionMetrics m;
  m.add(0, sums_of({0.625f, 0.375f}, {0.5f, 0.5f}));    // MSE 1/64
  EXPECT_DOUBLE_EQ(m.psnr(), 10.0 * std::log10(64.0));  // 18.06 dB
}

TEST(RegressionMetrics, NoSamplesGiveNaN) {
  const RegressionMetrics m;
  EXPECT_EQ(m.samples(), 0u);
  EXPECT_TRUE(std::isnan(m.mae()));
  EXPECT_TRUE(std::isnan(m.mse()));
  EXPECT_TRUE(std::isnan(m.psnr()));
  EXPECT_TRUE(std::isnan(m.abs_rel()));
}

TEST(RegressionMetrics, ArrivalOrderDoesNotChangeABit) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> value(0.0f, 1.0f);
  std::vector<ErrorSums> samples;
  for (int i = 0; i < 200; ++i) {
    std::vector<float> out(37), ref(37);
    for (size_t j = 0; j < out.size(); ++j) {
      out[j] = value(rng);
      ref[j] = value(rng);
    }
    samples.push_back(sums_of(out, ref));
  }
  RegressionMetrics in_order, shuffled;
  for (size_t i = 0; i < samples.size(); ++i) in_order.add(i, samples[i]);
  std::vector<size_t> order(samples.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  for (size_t i : order) shuffled.add(i, samples[i]);
  EXPECT_EQ(shuffled.samples(), samples.size());
  EXPECT_EQ(shuffled.mae(), in_order.mae());
  EXPECT_EQ(shuffled.mse(), in_order.mse());
  EXPECT_EQ(shuffled.abs_rel(), in_order.abs_rel());
  EXPECT_EQ(shuffled.abs_rel_elements(), in_order.abs_rel_elements());
}

TEST(RegressionMetrics, LaterSamplesWaitForEarlierOnes) {
  RegressionMetrics m;
  m.add(1, sums_of({1.0f}, {0.0f}));
  EXPECT_EQ(m.samples(), 0u);  // sample 0 has not arrived
  EXPECT_TRUE(std::isnan(m.mae()));
  m.add(0, sums_of({0.0f}, {0.0f}));
  EXPECT_EQ(m.samples(), 2u);
  EXPECT_DOUBLE_EQ(m.mae(), 0.5);
}

TEST(RegressionMetrics, RepeatedSampleIsAnError) {
  RegressionMetrics m;
  m.add(0, sums_of({1.0f}, {0.0f}));
  m.add(2, sums_of({1.0f}, {0.0f}));
  EXPECT_THROW(m.add(0, sums_of({1.0f}, {0.0f})), octet::Error);
  EXPECT_THROW(m.add(2, sums_of({1.0f}, {0.0f})), octet::Error);
  EXPECT_EQ(m.samples(), 1u);
}

}  // namespace
}  // namespace octet::cli
