// Entropy (KL-divergence) observer: the fast curve against a literal implementation of the
// TensorRT procedure, and the thresholds it picks on shaped data.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "quant/entropy_observer.hpp"
#include "tests/quant/observer_test_util.hpp"

namespace octet::quant {
namespace {

// Literal TensorRT procedure for keeping i bins and nq levels (see entropy_observer.hpp).
double naive_kl(const std::vector<uint64_t>& c, size_t i, size_t nq) {
  double n = 0.0;
  for (uint64_t x : c) n += static_cast<double>(x);
  std::vector<double> p(c.begin(), c.begin() + static_cast<std::ptrdiff_t>(i));
  double outliers = 0.0;
  for (size_t k = i; k < c.size(); ++k) outliers += static_cast<double>(c[k]);
  p[i - 1] += outliers;
  double q_total = 0.0;
  for (size_t k = 0; k < i; ++k) q_total += static_cast<double>(c[k]);
  if (q_total == 0.0) return std::numeric_limits<double>::infinity();
  std::vector<double> q(i, 0.0);  // in counts
  for (size_t j = 0; j < nq; ++j) {
    const size_t b = j * i / nq, e = (j + 1) * i / nq;
    double sum = 0.0, nonzero = 0.0;
    for (size_t k = b; k < e; ++k) {
      sum += static_cast<double>(c[k]);
      nonzero += p[k] > 0.0 ? 1.0 : 0.0;
    }
    for (size_t k = b; k < e; ++k) {
      if (p[k] > 0.0) q[k] = sum > 0.0 ? sum / nonzero : 0.5;
    }
  }
  double kl = 0.0;
  for (size_t k = 0; k < i; ++k) {
    if (p[k] == 0.0) continue;
    const double pk = p[k] / n, qk = q[k] / q_total;
    kl += pk * std::log(pk / qk);
  }
  return kl;
}

TEST(EntropyCurve, MatchesLiteralProcedure) {
  std::mt19937 rng(17);
  for (int trial = 0; trial < 12; ++trial) {
    const size_t m = 100 + rng() % 300;
    const size_t nq = trial % 2 == 0 ? 128 : 16;
    std::vector<uint64_t> counts(m);
    for (uint64_t& x : counts) x = (rng() % 3 == 0) ? 0 : rng() % 1000;  // a third empty
    if (trial % 3 == 0) {
      // Empty stretches so that some last levels hold nothing but the outliers.
      std::fill(counts.begin() + static_cast<std::ptrdiff_t>(m / 2),
                counts.begin() + static_cast<std::ptrdiff_t>(m - 3), 0);
    }
    const std::vector<double> curve = kl_divergence_curve(counts, static_cast<int>(nq));
    ASSERT_EQ(curve.size(), m + 1);
    for (size_t i = 0; i < std::min(nq, m + 1); ++i) EXPECT_TRUE(std::isinf(curve[i]));
    double best = std::numeric_limits<double>::infinity();
    size_t best_i = m;
    for (size_t i = m; i >= nq && i > 0; --i) {
      const double ref = naive_kl(counts, i, nq);
      if (std::isinf(ref)) {
        EXPECT_TRUE(std::isinf(curve[i])) << "i " << i;
      } else {
        EXPECT_NEAR(curve[i], ref, 1e-9 * std::max(1.0, std::fabs(ref))) << "i " << i;
      }
      if (ref < best) {
        best = ref;
        best_i = i;
      }
    }
    if (m > nq) {
      EXPECT_EQ(kl_threshold_bins(counts, static_cast<int>(nq)), best_i);
    }
  }
}

TEST(EntropyCurve, FewBinsMeansNoClipping) {
  const std::vector<uint64_t> counts{5, 0, 7, 1};
  EXPECT_EQ(kl_threshold_bins(counts, 128), 4u);
  EXPECT_EQ(kl_threshold_bins(counts, 4), 4u);
}

std::vector<float> gaussian_with_outliers() {
  std::vector<float> v = test::gaussian(100000, 0.0f, 1.0f, 99);
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> far(20.0f, 40.0f);
  for (int i = 0; i < 20; ++i) v.push_back(i % 2 == 0 ? far(rng) : -far(rng));
  return v;
}

TEST(EntropyObserver, GaussianWithOutliersIsClippedAndLowersKl) {
  const std::vector<float> v = gaussian_with_outliers();
  EntropyObserver obs(2048);  // the TensorRT resolution; the default (1024) is coarser
  test::observe_in_batches(obs, v, 10);
  const float max_abs = obs.histogram().max_abs();
  const Range s = obs.range(RangeRequest{true, 256});
  EXPECT_EQ(s.lo, -s.hi);
  EXPECT_GT(s.hi, 2.0f);
  EXPECT_LT(s.hi, 0.25f * max_abs);

  // The chosen threshold is the literal KL minimum, and beats no clipping.
  const BinnedCounts abs = obs.histogram().abs_bins();
  const size_t m = abs.counts.size();
  const size_t chosen = kl_threshold_bins(abs.counts, 128);
  EXPECT_FLOAT_EQ(s.hi, static_cast<float>(abs.edge(static_cast<int64_t>(chosen))));
  const double kl_chosen = naive_kl(abs.counts, chosen, 128);
  const double kl_full = naive_kl(abs.counts, m, 128);
  EXPECT_LT(kl_chosen, kl_full);
  for (size_t i = 128; i <= m; ++i) EXPECT_LE(kl_chosen, naive_kl(abs.counts, i, 128) + 1e-12);

  // Asymmetric with both signs: the same threshold, clipped to [min, max].
  const Range a = obs.range(RangeRequest{false, 256});
  EXPECT_EQ(a.hi, std::min(s.hi, obs.histogram().max()));
  EXPECT_EQ(a.lo, std::max(s.lo, obs.histogram().min()));
}

TEST(EntropyObserver, UniformKeepsNearlyTheWholeRange) {
  EntropyObserver sym;
  test::observe_in_batches(sym, test::uniform(100000, -1.0f, 1.0f, 12), 4);
  const Range s = sym.range(RangeRequest{true, 256});
  EXPECT_GE(s.hi, 0.95f * sym.histogram().max_abs());
  EXPECT_LE(s.hi, sym.histogram().max_abs());

  EntropyObserver relu;
  test::observe_in_batches(relu, test::uniform(100000, 0.0f, 1.0f, 13), 4);
  const Range a = relu.range(RangeRequest{false, 256});
  EXPECT_EQ(a.lo, 0.0f);
  EXPECT_GE(a.hi, 0.95f * relu.histogram().max());
  EXPECT_LE(a.hi, relu.histogram().max());
}

TEST(EntropyObserver, PostReluUsesAllLevelsOnOneSide) {
  std::vector<float> v = test::gaussian(100000, 0.0f, 1.0f, 31);
  for (float& x : v) x = std::max(x, 0.0f);  // half the values are exact zeros
  for (int i = 0; i < 10; ++i) v.push_back(30.0f + static_cast<float>(i));
  EntropyObserver obs;
  test::observe_in_batches(obs, v, 5);
  const Range a = obs.range(RangeRequest{false, 256});
  EXPECT_EQ(a.lo, 0.0f);
  EXPECT_GT(a.hi, 2.0f);
  EXPECT_LT(a.hi, 0.5f * obs.histogram().max());
  // The search used 256 levels: it is the argmin of the curve with nq = 256.
  const BinnedCounts abs = obs.histogram().abs_bins();
  EXPECT_FLOAT_EQ(a.hi, static_cast<float>(abs.edge(
                            static_cast<int64_t>(kl_threshold_bins(abs.counts, 256)))));

  // All-negative data is the mirror image.
  std::vector<float> neg(v.size());
  std::transform(v.begin(), v.end(), neg.begin(), [](float x) { return -x; });
  EntropyObserver mirror;
  test::observe_in_batches(mirror, neg, 5);
  const Range b = mirror.range(RangeRequest{false, 256});
  EXPECT_EQ(b.hi, 0.0f);
  EXPECT_NEAR(b.lo, -a.hi, abs.width());  // values on bin edges may fold one bin lower
}

}  // namespace
}  // namespace octet::quant
