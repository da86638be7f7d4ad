#include "tools/octet/regression_metrics.hpp"

#include <cmath>
#include <limits>
#include <string>

#include "graph/error.hpp"

namespace octet::cli {

ErrorSums ErrorSums::of(const float* output, const float* reference, size_t n) {
  ErrorSums sums;
  sums.elements = n;
  for (size_t j = 0; j < n; ++j) {
    const double ref = reference[j];
    const double error = std::fabs(static_cast<double>(output[j]) - ref);
    sums.abs += error;
    sums.squared += error * error;
    if (ref > kAbsRelMinReference) {
      ++sums.rel_elements;
      sums.rel += error / ref;
    }
  }
  return sums;
}

void RegressionMetrics::add(size_t index, const ErrorSums& sums) {
  if (index < next_ || !waiting_.emplace(index, sums).second) {
    throw Error("regression metrics: sample " + std::to_string(index) + " was added twice");
  }
  for (auto first = waiting_.begin(); first != waiting_.end() && first->first == next_;
       first = waiting_.begin()) {
    add_in_order(first->second);
    waiting_.erase(first);
  }
}

void RegressionMetrics::add_in_order(const ErrorSums& sums) {
  total_.elements += sums.elements;
  total_.abs += sums.abs;
  total_.squared += sums.squared;
  total_.rel_elements += sums.rel_elements;
  total_.rel += sums.rel;
  ++next_;
}

namespace {
double mean(double sum, size_t count) {
  return count == 0 ? std::numeric_limits<double>::quiet_NaN() : sum / static_cast<double>(count);
}
}  // namespace

double RegressionMetrics::mae() const {
  return mean(total_.abs, total_.elements);
}
double RegressionMetrics::abs_rel() const {
  return mean(total_.rel, total_.rel_elements);
}
double RegressionMetrics::mse() const {
  return mean(total_.squared, total_.elements);
}

double RegressionMetrics::psnr() const {
  const double mse_value = mse();
  if (mse_value == 0.0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(1.0 / mse_value);  // NaN stays NaN
}

}  // namespace octet::cli
