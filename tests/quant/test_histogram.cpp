// The growable histogram: exact merging when the range grows, folding to |x|, coarsening.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <vector>

#include "graph/error.hpp"
#include "quant/histogram.hpp"
#include "tests/quant/observer_test_util.hpp"

namespace octet::quant {
namespace {

// Brute force: every value binned directly at width 2^exponent.
std::map<int64_t, uint64_t> direct_bins(const std::vector<float>& values, int exponent) {
  std::map<int64_t, uint64_t> bins;
  for (float x : values) {
    ++bins[static_cast<int64_t>(std::floor(static_cast<double>(x) / std::ldexp(1.0, exponent)))];
  }
  return bins;
}

void expect_same_counts(const BinnedCounts& h, const std::map<int64_t, uint64_t>& expected) {
  ASSERT_FALSE(h.counts.empty());
  // Every non-empty bin of the brute force lies inside the histogram, with the same count.
  for (const auto& [index, count] : expected) {
    ASSERT_GE(index, h.first_index);
    ASSERT_LT(index, h.end_index());
    EXPECT_EQ(h.counts[static_cast<size_t>(index - h.first_index)], count) << "bin " << index;
  }
  uint64_t sum = 0;
  for (const auto& kv : expected) sum += kv.second;
  EXPECT_EQ(h.total(), sum);
}

TEST(Histogram, GrowthMergesExactly) {
  // Batches whose range grows on both sides (and sometimes jumps by far more than 2x), so the
  // width doubles many times over the run.
  std::mt19937 rng(7);
  Histogram hist;  // 2048 bins
  std::vector<float> all;
  int first_exponent = 0;
  double lo = -0.01, hi = 0.02;
  for (int b = 0; b < 40; ++b) {
    std::uniform_real_distribution<double> dist(lo, hi);
    std::vector<float> batch(500);
    for (float& x : batch) x = static_cast<float>(dist(rng));
    if (b % 5 == 0) batch.push_back(0.0f);
    hist.add(batch.data(), batch.size());
    all.insert(all.end(), batch.begin(), batch.end());
    if (b == 0) first_exponent = hist.bins().exponent;
    ASSERT_LE(hist.bins().counts.size(), 2048u);
    lo *= (b % 3 == 0) ? 1.7 : 1.1;
    hi *= (b % 7 == 0) ? 9.0 : 1.2;
  }
  EXPECT_GE(hist.bins().exponent - first_exponent, 10);  // it really grew
  expect_same_counts(hist.bins(), direct_bins(all, hist.bins().exponent));
  EXPECT_EQ(hist.total(), all.size());
  EXPECT_EQ(hist.min(), *std::min_element(all.begin(), all.end()));
  EXPECT_EQ(hist.max(), *std::max_element(all.begin(), all.end()));
  EXPECT_EQ(hist.zeros(), static_cast<uint64_t>(std::count(all.begin(), all.end(), 0.0f)));

  // The same data in one go, coarsened to the final width, gives the same histogram.
  Histogram once;
  once.add(all.data(), all.size());
  ASSERT_LE(once.bins().exponent, hist.bins().exponent);
  const BinnedCounts coarse = coarsen(once.bins(), hist.bins().exponent);
  EXPECT_EQ(coarse.first_index, hist.bins().first_index);
  EXPECT_EQ(coarse.counts, hist.bins().counts);
}

TEST(Histogram, GrowthToTheLeftRightAndHugeJumps) {
  Histogram hist(64);
  std::vector<float> all;
  const std::vector<std::vector<float>> batches{
      {0.0f, 0.0f},                  // all zero: the finest width
      {1e-6f, 2e-6f},                // tiny, positive
      {-3.0f, -2.5f, -2.75f},        // far to the left
      {1e6f, 5e5f, 0.0f},            // far to the right: many doublings at once
      {-1e-3f, 1e-3f, 7.0f, -7.0f},  // inside
  };
  for (const auto& b : batches) {
    hist.add(b.data(), b.size());
    all.insert(all.end(), b.begin(), b.end());
    ASSERT_LE(hist.bins().counts.size(), 64u);
    expect_same_counts(hist.bins(), direct_bins(all, hist.bins().exponent));
  }
  EXPECT_EQ(hist.zeros(), 3u);
  EXPECT_EQ(hist.min(), -7.0f);
  EXPECT_EQ(hist.max(), 1e6f);
}

TEST(Histogram, ConfigurableBudgetIsRespected) {
  for (int max_bins : {2, 3, 16, 100}) {
    Histogram hist(max_bins);
    std::vector<float> all;
    for (int b = 0; b < 12; ++b) {
      std::vector<float> batch = test::uniform(200, -std::ldexp(1.0f, b), std::ldexp(0.3f, b),
                                               static_cast<uint32_t>(b));
      hist.add(batch.data(), batch.size());
      all.insert(all.end(), batch.begin(), batch.end());
      ASSERT_LE(hist.bins().counts.size(), static_cast<size_t>(max_bins));
    }
    expect_same_counts(hist.bins(), direct_bins(all, hist.bins().exponent));
    EXPECT_LE(hist.abs_bins().counts.size(), static_cast<size_t>(max_bins));
    EXPECT_LE(hist.zero_anchored_bins().counts.size(), static_cast<size_t>(max_bins));
  }
  EXPECT_THROW(Histogram(1), Error);
}

TEST(Histogram, InitialWidthIsTheFinestFittingPowerOfTwo) {
  Histogram hist;  // 2048 bins
  const std::vector<float> v{0.0f, 1.0f};
  hist.add(v.data(), v.size());
  // [0, 1] needs w with floor(1/w) + 1 <= 2048: w = 2^-10 gives 1025 bins, 2^-11 gives 2049.
  EXPECT_EQ(hist.bins().exponent, -10);
  EXPECT_EQ(hist.bins().first_index, 0);
  EXPECT_EQ(hist.bins().counts.size(), 1025u);
}

TEST(Histogram, AbsFoldMatchesDirectBinningOfMagnitudes) {
  std::vector<float> v = test::gaussian(5000, -0.5f, 1.0f, 3);
  Histogram hist;
  hist.add(v.data(), v.size());
  const BinnedCounts abs = hist.abs_bins();
  EXPECT_EQ(abs.first_index, 0);
  EXPECT_EQ(abs.total(), v.size());
  // Brute force with the documented fold: bin i < 0 goes to -i-1.
  std::map<int64_t, uint64_t> expected;
  for (float x : v) {
    const int64_t i = static_cast<int64_t>(std::floor(x / abs.width()));
    ++expected[i >= 0 ? i : -i - 1];
  }
  expect_same_counts(abs, expected);
}

TEST(Histogram, AbsAndZeroAnchoredViewsOfDataFarFromZero) {
  Histogram hist;
  const std::vector<float> v = test::uniform(3000, 1000.0f, 1001.0f, 5);
  hist.add(v.data(), v.size());
  EXPECT_LE(hist.bins().width(), 1.0 / 1024);  // fine grid over [1000, 1001]
  const BinnedCounts abs = hist.abs_bins();
  EXPECT_LE(abs.counts.size(), 2048u);
  EXPECT_GE(abs.counts.size(), 1025u);  // the finest power of two that fits [0, 1001]
  EXPECT_EQ(abs.total(), v.size());
  const BinnedCounts za = hist.zero_anchored_bins();
  EXPECT_EQ(za.first_index, 0);
  EXPECT_EQ(za.exponent, abs.exponent);
  EXPECT_EQ(za.counts, abs.counts);
  expect_same_counts(za, direct_bins(v, za.exponent));
}

TEST(Histogram, NonFiniteBatchLeavesHistogramUnchanged) {
  Histogram hist;
  const std::vector<float> good{1.0f, 2.0f};
  hist.add(good.data(), good.size());
  const BinnedCounts before = hist.bins();
  const std::vector<float> bad{100.0f, std::numeric_limits<float>::quiet_NaN()};
  EXPECT_THROW(hist.add(bad.data(), bad.size()), Error);
  EXPECT_EQ(hist.total(), 2u);
  EXPECT_EQ(hist.max(), 2.0f);
  EXPECT_EQ(hist.bins().counts, before.counts);
  EXPECT_THROW(hist.add(nullptr, 3), Error);
}

TEST(Histogram, CoarsenRejectsFinerWidth) {
  BinnedCounts b;
  b.exponent = 3;
  b.counts = {1, 2};
  EXPECT_THROW(coarsen(b, 2), Error);
  const BinnedCounts c = coarsen(b, 4);
  EXPECT_EQ(c.counts, (std::vector<uint64_t>{3}));
}

}  // namespace
}  // namespace octet::quant
