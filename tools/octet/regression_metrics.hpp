#pragma once
// Streaming error metrics of a regression model's outputs against reference values (the
// dataset's targets, or a reference model's outputs): MAE, abs_rel, MSE and PSNR, accumulated in
// double without keeping any output. Each sample is first reduced to its ErrorSums; the sums
// are then added strictly in sample order, so a parallel evaluation yields the same bits for
// any thread count and any finishing order.
#include <cstddef>
#include <map>

namespace octet::cli {

// abs_rel only counts elements whose reference value exceeds this: relative error explodes
// near zero, and a denoised image is mostly black background.
constexpr double kAbsRelMinReference = 0.05;

// Sums over the elements of one sample, taken in element order in double.
struct ErrorSums {
  size_t elements = 0;
  double abs = 0.0;         // sum of |output - reference|
  double squared = 0.0;     // sum of (output - reference)^2
  size_t rel_elements = 0;  // elements with reference > kAbsRelMinReference
  double rel = 0.0;         // sum of |output - reference| / reference over those

  static ErrorSums of(const float* output, const float* reference, size_t n);
};

class RegressionMetrics {
 public:
  // Adds sample `index`. Samples may arrive in any order (as threads finish them) but are summed
  // in index order: sample k joins the totals once samples 0..k-1 have. Every index must come
  // exactly once; a repeated one throws octet::Error. Not thread-safe: callers lock.
  void add(size_t index, const ErrorSums& sums);

  // Samples summed so far: 0..samples()-1.
  size_t samples() const { return next_; }
  size_t elements() const { return total_.elements; }
  size_t abs_rel_elements() const { return total_.rel_elements; }

  // Means over the summed samples. NaN where the mean has no elements (mae, mse, psnr with no
  // samples; abs_rel when no reference element exceeds kAbsRelMinReference).
  double mae() const;
  double abs_rel() const;
  double mse() const;
  // 10 log10(1 / mse): peak signal 1.0, for outputs in [0, 1]. +inf when mse is 0.
  double psnr() const;

 private:
  void add_in_order(const ErrorSums& sums);

  ErrorSums total_;
  size_t next_ = 0;                      // index of the next sample to sum
  std::map<size_t, ErrorSums> waiting_;  // samples that arrived before an earlier one
};

}  // namespace octet::cli
