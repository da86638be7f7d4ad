#include "engine/data/gaussian_noise.hpp"

#include <algorithm>
#include <cmath>

namespace octet::data {

uint64_t SplitMix64::next() {
  state_ += kGamma;
  uint64_t z = state_;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

double standard_normal(SplitMix64& rng) {
  constexpr double kTwoPi = 6.283185307179586476925286766559;
  constexpr double kUnit = 1.0 / 9007199254740992.0;  // 2^-53
  const uint64_t a = rng.next();
  const uint64_t b = rng.next();
  const double u1 = static_cast<double>((a >> 11) + 1) * kUnit;
  const double u2 = static_cast<double>(b >> 11) * kUnit;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(kTwoPi * u2);
}

float noisy_pixel(double clean, double sigma, SplitMix64& rng) {
  const double noisy = clean + sigma * standard_normal(rng);
  return static_cast<float>(std::min(std::max(noisy, 0.0), 1.0));
}

}  // namespace octet::data
