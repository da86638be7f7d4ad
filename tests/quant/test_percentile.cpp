// Percentile observer vs a brute-force sort of all values (within one bin width).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "graph/error.hpp"
#include "quant/percentile_observer.hpp"
#include "tests/quant/observer_test_util.hpp"

namespace octet::quant {
namespace {

void expect_matches_sort(const PercentileObserver& obs, const std::vector<float>& v, double p) {
  std::vector<double> values(v.begin(), v.end());
  std::vector<double> magnitudes;
  for (float x : v) magnitudes.push_back(std::fabs(static_cast<double>(x)));
  std::sort(values.begin(), values.end());
  std::sort(magnitudes.begin(), magnitudes.end());

  const double w = obs.histogram().bins().width();
  const Range a = obs.range(RangeRequest{false, 256});
  EXPECT_NEAR(a.lo, test::exact_quantile(values, (100.0 - p) / 100.0), w) << "p " << p;
  EXPECT_NEAR(a.hi, test::exact_quantile(values, p / 100.0), w) << "p " << p;

  const double w_abs = obs.histogram().abs_bins().width();
  const Range s = obs.range(RangeRequest{true, 256});
  EXPECT_NEAR(s.hi, test::exact_quantile(magnitudes, p / 100.0), w_abs) << "p " << p;
  EXPECT_EQ(s.lo, -s.hi);
}

TEST(PercentileObserver, UniformMatchesSortedValues) {
  const std::vector<float> v = test::uniform(40000, -3.0f, 5.0f, 21);
  for (double p : {99.99, 99.9, 99.0, 90.0, 50.0, 100.0}) {
    PercentileObserver obs(p);
    test::observe_in_batches(obs, v, 10);
    expect_matches_sort(obs, v, p);
  }
}

TEST(PercentileObserver, GaussianWithOutliersOverGrowingBatches) {
  std::vector<float> v = test::gaussian(40000, 0.0f, 1.0f, 4);
  for (int i = 0; i < 3; ++i) v.push_back(50.0f + 10.0f * i);  // late, far outliers (< 0.01%)
  for (double p : {99.99, 99.9}) {
    PercentileObserver obs(p);
    test::observe_in_batches(obs, v, 13);
    expect_matches_sort(obs, v, p);
    // The outliers are clipped away.
    EXPECT_LT(obs.range(RangeRequest{false, 256}).hi, 6.0f);
  }
}

TEST(PercentileObserver, KnownDiscreteDistribution) {
  // -5 ×1, 0 ×4999, 1 ×4000, 2 ×900, 3 ×99, 100 ×1: N = 10000, so the 99.99th percentile is the
  // 9999th value (3) and the 0.01th the first (-5).
  std::vector<float> v;
  auto add = [&v](float x, int n) { v.insert(v.end(), static_cast<size_t>(n), x); };
  add(1.0f, 4000);
  add(-5.0f, 1);
  add(3.0f, 99);
  add(0.0f, 4999);
  add(100.0f, 1);
  add(2.0f, 900);
  PercentileObserver obs;  // 99.99
  test::observe_in_batches(obs, v, 3);
  const double w = obs.histogram().bins().width();
  const Range a = obs.range(RangeRequest{false, 256});
  EXPECT_GE(a.lo, -5.0f);
  EXPECT_LE(a.lo, -5.0 + w);
  EXPECT_GE(a.hi, 3.0f);
  EXPECT_LE(a.hi, 3.0 + w);
  // |x|: the 9999th magnitude is 5.
  const double w_abs = obs.histogram().abs_bins().width();
  const Range s = obs.range(RangeRequest{true, 256});
  EXPECT_NEAR(s.hi, 5.0, w_abs);
  expect_matches_sort(obs, v, 99.99);

  PercentileObserver median(50.0);
  median.observe(v.data(), v.size());
  // 5000th value: 0 (the 4999 zeros occupy ranks 2..5000).
  EXPECT_NEAR(median.range(RangeRequest{false, 256}).hi, 0.0, w);
}

TEST(PercentileObserver, HundredthPercentileIsMinMax) {
  const std::vector<float> v = test::gaussian(5000, 1.0f, 3.0f, 8);
  PercentileObserver obs(100.0);
  obs.observe(v.data(), v.size());
  const Range a = obs.range(RangeRequest{false, 256});
  EXPECT_EQ(a.lo, *std::min_element(v.begin(), v.end()));
  EXPECT_EQ(a.hi, *std::max_element(v.begin(), v.end()));
}

TEST(PercentileObserver, RejectsBadPercentile) {
  EXPECT_THROW(PercentileObserver(49.0), Error);
  EXPECT_THROW(PercentileObserver(100.5), Error);
  EXPECT_THROW(PercentileObserver(99.0, 1), Error);  // histogram budget
}

}  // namespace
}  // namespace octet::quant
