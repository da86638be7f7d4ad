// ErrorStats: streaming sums over batches equal the statistics of all the data at once,
// computed here directly from their definitions.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "quant/error_stats.hpp"

using octet::quant::ErrorStats;

namespace {

struct Direct {
  double mse = 0, sqnr = 0, cosine = 0, max_abs = 0, mean = 0, variance = 0, differ = 0;
};

// Two-pass textbook formulas.
Direct direct(const std::vector<double>& r, const std::vector<double>& t,
              const std::vector<bool>& differs) {
  Direct d;
  const double n = static_cast<double>(r.size());
  double signal = 0, noise = 0, cross = 0, tested = 0, sum_error = 0, count_differ = 0;
  for (size_t i = 0; i < r.size(); ++i) {
    const double e = t[i] - r[i];
    signal += r[i] * r[i];
    noise += e * e;
    cross += r[i] * t[i];
    tested += t[i] * t[i];
    sum_error += e;
    d.max_abs = std::max(d.max_abs, std::fabs(e));
    count_differ += differs[i];
  }
  d.mse = noise / n;
  d.sqnr = 10.0 * std::log10(signal / noise);
  d.cosine = cross / std::sqrt(signal * tested);
  d.mean = sum_error / n;
  for (size_t i = 0; i < r.size(); ++i) d.variance += std::pow(t[i] - r[i] - d.mean, 2);
  d.variance /= n;
  d.differ = count_differ / n;
  return d;
}

void expect_matches(const ErrorStats& stats, const Direct& d, size_t n) {
  EXPECT_EQ(stats.count(), n);
  EXPECT_NEAR(stats.mse(), d.mse, 1e-12 * d.mse);
  EXPECT_NEAR(stats.sqnr_db(), d.sqnr, 1e-9);
  EXPECT_NEAR(stats.cosine(), d.cosine, 1e-12);
  EXPECT_EQ(stats.max_abs_error(), d.max_abs);
  EXPECT_NEAR(stats.mean_error(), d.mean, 1e-12);
  EXPECT_NEAR(stats.error_variance(), d.variance, 1e-10 * d.variance);
  EXPECT_DOUBLE_EQ(stats.differ_fraction(), d.differ);
}

TEST(ErrorStats, StreamingOverBatchesEqualsStatisticsOfAllTheData) {
  std::mt19937 rng(3);
  std::normal_distribution<double> signal(0.5, 2.0), noise(0.01, 0.05);
  std::bernoulli_distribution flip(0.3);
  const size_t n = 5000;
  std::vector<double> r(n), t(n);
  std::vector<bool> differs(n);
  for (size_t i = 0; i < n; ++i) {
    r[i] = signal(rng);
    t[i] = r[i] + noise(rng);
    differs[i] = flip(rng);
  }
  const Direct d = direct(r, t, differs);

  ErrorStats whole;
  for (size_t i = 0; i < n; ++i) whole.add(r[i], t[i], differs[i]);
  expect_matches(whole, d, n);

  // Uneven batches, each accumulated alone and merged, as the profiler does per sample.
  ErrorStats merged;
  std::uniform_int_distribution<size_t> batch_size(1, 700);
  for (size_t start = 0; start < n;) {
    const size_t end = std::min(n, start + batch_size(rng));
    ErrorStats batch;
    for (size_t i = start; i < end; ++i) batch.add(r[i], t[i], differs[i]);
    merged.merge(batch);
    start = end;
  }
  expect_matches(merged, d, n);

  // Merging into an empty state and merging an empty state are no-ops.
  ErrorStats empty, copy;
  copy.merge(whole);
  copy.merge(empty);
  expect_matches(copy, d, n);
}

TEST(ErrorStats, EdgeCasesHaveDefinedValues) {
  ErrorStats identical;
  for (double v : {1.0, -2.0, 3.5}) identical.add(v, v, false);
  EXPECT_EQ(identical.sqnr_db(), std::numeric_limits<double>::infinity());
  EXPECT_DOUBLE_EQ(identical.cosine(), 1.0);
  EXPECT_EQ(identical.mse(), 0.0);
  EXPECT_EQ(identical.differ_fraction(), 0.0);

  ErrorStats zero_reference;
  zero_reference.add(0.0, 1.0, true);
  EXPECT_EQ(zero_reference.sqnr_db(), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(zero_reference.cosine(), 0.0);

  ErrorStats all_zero;
  all_zero.add(0.0, 0.0, false);
  EXPECT_EQ(all_zero.cosine(), 1.0);

  ErrorStats none;
  EXPECT_EQ(none.count(), 0u);
  EXPECT_EQ(none.mse(), 0.0);
  EXPECT_EQ(none.differ_fraction(), 0.0);
}

TEST(ErrorStats, SqnrOfAKnownSignalToNoiseRatio) {
  // Reference ±1, error ±0.1 everywhere: SQNR = 10·log10(1 / 0.01) = 20 dB; MSE 0.01.
  ErrorStats stats;
  for (int i = 0; i < 100; ++i)
    stats.add(i % 2 ? 1.0 : -1.0, (i % 2 ? 1.0 : -1.0) + (i % 4 < 2 ? 0.1 : -0.1), true);
  EXPECT_NEAR(stats.sqnr_db(), 20.0, 1e-9);
  EXPECT_NEAR(stats.mse(), 0.01, 1e-12);
  EXPECT_NEAR(stats.max_abs_error(), 0.1, 1e-12);
  EXPECT_NEAR(stats.mean_error(), 0.0, 1e-12);
}

}  // namespace
