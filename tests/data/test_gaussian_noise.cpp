// SplitMix64 and the Box–Muller draw must match what the NumPy training script computes. The
// expected constants come from an independent Python implementation of the same spec (plain
// integers masked to 64 bits, math.log/cos/sqrt):
//   M = 2**64 - 1; s = (s + 0x9E3779B97F4A7C15) & M; z = s
//   z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M; z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
//   return z ^ (z >> 31)
// The seed 1234567 sequence is also the one published with Vigna's reference splitmix64.c.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "engine/data/gaussian_noise.hpp"

namespace octet::data {
namespace {

std::vector<uint64_t> first_draws(uint64_t seed, size_t n) {
  SplitMix64 rng(seed);
  std::vector<uint64_t> out;
  for (size_t i = 0; i < n; ++i) out.push_back(rng.next());
  return out;
}

TEST(SplitMix64, MatchesTheReferenceSequences) {
  EXPECT_EQ(
      first_draws(0, 5),
      (std::vector<uint64_t>{16294208416658607535ULL, 7960286522194355700ULL, 487617019471545679ULL,
                             17909611376780542444ULL, 1961750202426094747ULL}));
  EXPECT_EQ(
      first_draws(1234567, 5),
      (std::vector<uint64_t>{6457827717110365317ULL, 3203168211198807973ULL, 9817491932198370423ULL,
                             4593380528125082431ULL, 16408922859458223821ULL}));
  // The state wraps modulo 2^64 on the first step.
  EXPECT_EQ(first_draws(UINT64_MAX, 2),
            (std::vector<uint64_t>{16490336266968443936ULL, 16834447057089888969ULL}));
}

TEST(SplitMix64, SkipLandsWhereRepeatedDrawsDo) {
  for (uint64_t n : {uint64_t{0}, uint64_t{1}, uint64_t{2}, uint64_t{7}, uint64_t{1568}}) {
    SplitMix64 stepped(2026), skipped(2026);
    for (uint64_t i = 0; i < n; ++i) stepped.next();
    skipped.skip(n);
    EXPECT_EQ(skipped.next(), stepped.next()) << n;
  }
  SplitMix64 far(2026);
  far.skip(1000000);
  EXPECT_EQ(far.next(), 5333008032110437265ULL);  // Python: the 1000001st draw
  // Skips compose, including past 2^64 draws' worth of state wrap-around.
  SplitMix64 once(99), twice(99);
  once.skip(uint64_t{1} << 63);
  once.skip((uint64_t{1} << 63) + 5);
  twice.skip(5);
  EXPECT_EQ(once.next(), twice.next());
}

TEST(StandardNormal, MatchesThePythonDraws) {
  SplitMix64 rng(2026);
  const double expected[] = {-0.5449768809542614, -0.6737962069453797, -0.1009857345222397,
                             0.10426416418394203};
  for (double value : expected) EXPECT_DOUBLE_EQ(standard_normal(rng), value);
}

TEST(StandardNormal, HasUnitNormalMoments) {
  SplitMix64 rng(1);
  const int n = 1000000;
  double sum = 0, sum_sq = 0, sum_4 = 0;
  int within_one = 0;
  for (int i = 0; i < n; ++i) {
    const double g = standard_normal(rng);
    ASSERT_TRUE(std::isfinite(g));
    sum += g;
    sum_sq += g * g;
    sum_4 += g * g * g * g;
    within_one += std::fabs(g) < 1.0;
  }
  const double mean = sum / n;
  const double variance = sum_sq / n - mean * mean;
  // Standard errors at n = 1e6: mean 0.001, std 0.0007, fraction 0.0005, fourth moment 0.01.
  EXPECT_NEAR(mean, 0.0, 0.005);
  EXPECT_NEAR(std::sqrt(variance), 1.0, 0.004);
  EXPECT_NEAR(static_cast<double>(within_one) / n, 0.682689, 0.0025);
  EXPECT_NEAR(sum_4 / n, 3.0, 0.05);
}

TEST(NoisyPixel, AddsScaledNoiseAndClampsToUnitRange) {
  SplitMix64 a(2026);  // first normal draw -0.5449768809542614
  EXPECT_EQ(noisy_pixel(0.75, 0.2, a), 0.6410046219825745f);  // numpy: float32(0.75 + 0.2 * g)
  SplitMix64 c(2026);
  EXPECT_EQ(noisy_pixel(0.05, 0.2, c), 0.0f);  // 0.05 - 0.109 clamps to 0
  SplitMix64 d(2026);
  EXPECT_EQ(noisy_pixel(1.0, -1.0, d), 1.0f);  // 1 + 0.545 clamps to 1
  SplitMix64 e(2026);
  EXPECT_EQ(noisy_pixel(0.3, 0.0, e), 0.3f);  // sigma 0 leaves the value, still two draws
  EXPECT_EQ(e.next(), first_draws(2026, 3)[2]);
}

}  // namespace
}  // namespace octet::data
