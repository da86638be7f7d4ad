#pragma once
// Seeded Gaussian pixel noise that a NumPy training script reproduces bit for bit: SplitMix64
// (the constants of Vigna's reference splitmix64.c) feeding one Box–Muller value per two draws,
// all in double, the result clamped to [0, 1] and rounded once to float.
#include <cstdint>

namespace octet::data {

class SplitMix64 {
 public:
  static constexpr uint64_t kGamma = 0x9E3779B97F4A7C15ULL;

  explicit SplitMix64(uint64_t seed) : state_(seed) {}

  uint64_t next();

  // Leaves the generator as n calls to next() would: the state only ever advances by kGamma,
  // so a sample deep inside a split is reached in O(1) instead of replaying the stream.
  void skip(uint64_t n) { state_ += n * kGamma; }

 private:
  uint64_t state_;
};

// One standard normal value from two draws a, b: u1 = ((a >> 11) + 1) * 2^-53 lies in (0, 1]
// so the logarithm is finite, u2 = (b >> 11) * 2^-53 in [0, 1); g = sqrt(-2 ln u1) cos(2 pi u2).
double standard_normal(SplitMix64& rng);

struct GaussianNoise {
  double sigma = 0.2;
  uint64_t seed = 2026;
};

// float(clamp(clean + sigma * standard_normal(rng), 0, 1)): one noisy pixel, two draws.
float noisy_pixel(double clean, double sigma, SplitMix64& rng);

}  // namespace octet::data
