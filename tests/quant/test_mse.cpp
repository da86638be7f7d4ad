// MSE observer: the chosen range against brute-force quantize-dequantize of all the values.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "quant/minmax_observer.hpp"
#include "quant/mse_observer.hpp"
#include "tests/quant/observer_test_util.hpp"

namespace octet::quant {
namespace {

// 50 000 N(0, 1) values and one outlier at +40: clipping the outlier partly pays, because the
// finer grid helps 50 000 values (the model's optimum is T ≈ 32).
std::vector<float> gaussian_with_rare_outlier() {
  std::vector<float> v = test::gaussian(50000, 0.0f, 1.0f, 2024);
  v.insert(v.begin() + 20000, 40.0f);
  return v;
}

TEST(MseObserver, SymmetricBeatsMinMaxAndIsNearTheBruteForceOptimum) {
  const std::vector<float> v = gaussian_with_rare_outlier();
  MseObserver obs;
  test::observe_in_batches(obs, v, 8);
  const Range r = obs.range(RangeRequest{true, 256});
  EXPECT_EQ(r.lo, -r.hi);
  const double max_abs = obs.histogram().max_abs();
  EXPECT_LT(r.hi, max_abs);

  const double mse_chosen = test::symmetric_quantization_mse(v, r.hi);
  const double mse_minmax = test::symmetric_quantization_mse(v, max_abs);
  EXPECT_LT(mse_chosen, 0.9 * mse_minmax);

  const double best =
      test::grid_minimum([&](double t) { return test::symmetric_quantization_mse(v, t); }, max_abs);
  EXPECT_LE(mse_chosen, 1.05 * best) << "chosen T " << r.hi << " mse " << mse_chosen
                                     << " best " << best;
}

TEST(MseObserver, AsymmetricBeatsMinMaxAndIsNearTheBruteForceOptimum) {
  const std::vector<float> v = gaussian_with_rare_outlier();
  MseObserver obs;
  test::observe_in_batches(obs, v, 8);
  const Range r = obs.range(RangeRequest{false, 256});
  const double mn = obs.histogram().min(), mx = obs.histogram().max();
  EXPECT_LE(r.lo, r.hi);
  EXPECT_GE(r.lo, mn);
  EXPECT_LT(r.hi, mx);  // the outlier side is clipped

  // The asymmetric grid is about half as coarse as the symmetric one, so the outlier is worth
  // less clipping (the model's optimum is hi ≈ 37) and the gain is smaller.
  const double mse_chosen = test::quantization_mse(v, r.lo, r.hi);
  const double mse_minmax = test::quantization_mse(v, mn, mx);
  EXPECT_LT(mse_chosen, 0.95 * mse_minmax);

  // Brute force: a fine search over hi for a few values of lo (the negative side has no outlier,
  // so its optimum is near the minimum).
  double best = mse_minmax;
  for (double lo : {mn, 0.85 * mn, static_cast<double>(r.lo)}) {
    best = std::min(best, test::grid_minimum(
                              [&](double hi) { return test::quantization_mse(v, lo, hi); }, mx));
  }
  EXPECT_LE(mse_chosen, 1.05 * best) << "chosen [" << r.lo << ", " << r.hi << "] mse "
                                     << mse_chosen << " best " << best;
}

TEST(MseObserver, PostReluKeepsZeroAndClipsTheTail) {
  std::vector<float> v = test::gaussian(60000, 0.0f, 1.0f, 77);
  for (float& x : v) x = std::max(x, 0.0f);  // half exact zeros: they cost nothing
  v.push_back(40.0f);
  MseObserver obs;
  test::observe_in_batches(obs, v, 6);
  const Range r = obs.range(RangeRequest{false, 256});
  EXPECT_EQ(r.lo, 0.0f);
  EXPECT_LT(r.hi, 40.0f);
  EXPECT_GT(r.hi, 3.0f);
  const double mse_chosen = test::quantization_mse(v, r.lo, r.hi);
  EXPECT_LT(mse_chosen, test::quantization_mse(v, 0.0, 40.0));
  const double best =
      test::grid_minimum([&](double hi) { return test::quantization_mse(v, 0.0, hi); }, 40.0);
  EXPECT_LE(mse_chosen, 1.05 * best);
}

TEST(MseObserver, NoOutliersMeansLittleOrNoClipping) {
  // Uniform data: any clipping costs more than the finer grid gains.
  const std::vector<float> v = test::uniform(40000, -2.0f, 6.0f, 3);
  MseObserver obs;
  obs.observe(v.data(), v.size());
  const Range r = obs.range(RangeRequest{false, 256});
  EXPECT_NEAR(r.lo, obs.histogram().min(), 0.02);
  EXPECT_NEAR(r.hi, obs.histogram().max(), 0.02);
}

TEST(MseObserver, FewerLevelsClipHarder) {
  const std::vector<float> v = test::gaussian(20000, 0.0f, 1.0f, 9);
  MseObserver obs;
  obs.observe(v.data(), v.size());
  const float t8 = obs.range(RangeRequest{true, 256}).hi;
  const float t4 = obs.range(RangeRequest{true, 16}).hi;
  EXPECT_LT(t4, t8);
  EXPECT_LE(t8, obs.histogram().max_abs());
  // Known optimum of the MSE clip for a Gaussian with 16 levels: ≈ 2.5–2.8 σ.
  EXPECT_GT(t4, 2.0f);
  EXPECT_LT(t4, 3.2f);
}

}  // namespace
}  // namespace octet::quant
