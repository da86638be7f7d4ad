#include "quant/error_stats.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace octet::quant {

void ErrorStats::merge(const ErrorStats& other) {
  if (other.count_ == 0) return;
  if (count_ == 0) {
    *this = other;
    return;
  }
  const double n_a = static_cast<double>(count_), n_b = static_cast<double>(other.count_);
  const double n = n_a + n_b;
  const double delta = other.mean_error_ - mean_error_;
  mean_error_ += delta * n_b / n;
  m2_ += other.m2_ + delta * delta * n_a * n_b / n;
  count_ += other.count_;
  differ_ += other.differ_;
  signal_ += other.signal_;
  tested_power_ += other.tested_power_;
  cross_ += other.cross_;
  max_abs_error_ = std::max(max_abs_error_, other.max_abs_error_);
}

double ErrorStats::differ_fraction() const {
  return count_ ? static_cast<double>(differ_) / static_cast<double>(count_) : 0.0;
}

double ErrorStats::error_variance() const {
  return count_ ? m2_ / static_cast<double>(count_) : 0.0;
}

double ErrorStats::mse() const {
  return count_ ? mean_error_ * mean_error_ + error_variance() : 0.0;
}

double ErrorStats::signal_power() const {
  return count_ ? signal_ / static_cast<double>(count_) : 0.0;
}

double ErrorStats::sqnr_db() const {
  const double noise = mse();
  if (noise <= 0.0) return std::numeric_limits<double>::infinity();
  const double signal = signal_power();
  if (signal <= 0.0) return -std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(signal / noise);
}

double ErrorStats::cosine() const {
  if (signal_ <= 0.0 && tested_power_ <= 0.0) return 1.0;
  if (signal_ <= 0.0 || tested_power_ <= 0.0) return 0.0;
  return cross_ / std::sqrt(signal_ * tested_power_);
}

}  // namespace octet::quant
