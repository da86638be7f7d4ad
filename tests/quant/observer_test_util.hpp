#pragma once
// Data generators and brute-force references shared by the observer tests.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "quant/observer.hpp"

namespace octet::quant::test {

inline std::vector<float> gaussian(size_t n, float mean, float stddev, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(mean, stddev);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

inline std::vector<float> uniform(size_t n, float lo, float hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// Feeds `values` to the observer in `batches` roughly equal batches.
inline void observe_in_batches(Observer& obs, const std::vector<float>& values, size_t batches) {
  const size_t n = values.size();
  for (size_t b = 0; b < batches; ++b) {
    const size_t begin = n * b / batches;
    const size_t end = n * (b + 1) / batches;
    obs.observe(values.data() + begin, end - begin);
  }
}

// The k-th order statistic with k = ceil(q·N) (at least 1) of sorted values: the exact
// percentile the histogram estimate is compared with.
inline double exact_quantile(const std::vector<double>& sorted_values, double q) {
  const double n = static_cast<double>(sorted_values.size());
  double rank = q * n;
  const double nearest = std::round(rank);  // same snapping as histogram_quantile
  if (std::fabs(rank - nearest) <= 1e-9 * std::max(1.0, rank)) rank = nearest;
  size_t k = static_cast<size_t>(std::max(1.0, std::ceil(rank)));
  k = std::min(k, sorted_values.size());
  return sorted_values[k - 1];
}

// Mean squared error of quantize-dequantize with the int8 grid fitted to [lo, hi] (widened to
// include 0): scale = (hi - lo)/255, zero point rounded, q clamped to [-128, 127].
inline double quantization_mse(const std::vector<float>& values, double lo, double hi) {
  lo = std::min(lo, 0.0);
  hi = std::max(hi, 0.0);
  if (hi - lo <= 0.0) {
    double s = 0.0;
    for (float x : values) s += static_cast<double>(x) * x;
    return s / static_cast<double>(values.size());
  }
  const double scale = (hi - lo) / 255.0;
  const double zp = std::clamp(-128.0 - std::nearbyint(lo / scale), -128.0, 127.0);
  double sum = 0.0;
  for (float x : values) {
    const double q = std::clamp(std::nearbyint(x / scale) + zp, -128.0, 127.0);
    const double d = (q - zp) * scale - x;
    sum += d * d;
  }
  return sum / static_cast<double>(values.size());
}

// Symmetric int8 grid for [-T, T]: scale = 2T/255, zero point 0, q clamped to [-128, 127].
inline double symmetric_quantization_mse(const std::vector<float>& values, double t) {
  if (t <= 0.0) return quantization_mse(values, 0.0, 0.0);
  const double scale = 2.0 * t / 255.0;
  double sum = 0.0;
  for (float x : values) {
    const double q = std::clamp(std::nearbyint(x / scale), -128.0, 127.0);
    const double d = q * scale - x;
    sum += d * d;
  }
  return sum / static_cast<double>(values.size());
}

// Minimum of f over (0, top]: a coarse grid of `coarse` points, then `coarse` more points spread
// over the two coarse cells around the best one (f is smooth near its minimum).
template <class F>
double grid_minimum(F f, double top, int coarse = 25) {
  double best = f(top);
  int best_k = coarse;
  for (int k = 1; k < coarse; ++k) {
    const double e = f(top * k / coarse);
    if (e < best) {
      best = e;
      best_k = k;
    }
  }
  const double from = top * (best_k - 1) / coarse;
  const double step = 2.0 * top / coarse / coarse;
  for (int k = 1; k <= coarse; ++k) {
    const double t = from + step * k;
    if (t > 0.0 && t <= top) best = std::min(best, f(t));
  }
  return best;
}

}  // namespace octet::quant::test
