#pragma once
// Streaming comparison of a tested tensor (an int8 layer's output, dequantized) against its
// reference (the fp32 model's value at the same point). Batches are added one after another or
// accumulated separately and merged: nothing but running sums in double is kept, so the result
// does not depend on how the elements were split into batches (up to rounding of the sums).
#include <cstdint>

namespace octet::quant {

class ErrorStats {
 public:
  // One element: reference value r, tested value t, and whether the tested element "differs"
  // (for int8 outputs: its code is not the code r itself would quantize to; for float outputs:
  // t != r).
  void add(double reference, double tested, bool differs) {
    const double error = tested - reference;
    ++count_;
    differ_ += differs ? 1 : 0;
    signal_ += reference * reference;
    tested_power_ += tested * tested;
    cross_ += reference * tested;
    // Welford: the mean error (a systematic bias, what bias correction removes) and its spread.
    const double delta = error - mean_error_;
    mean_error_ += delta / static_cast<double>(count_);
    m2_ += delta * (error - mean_error_);
    const double magnitude = error < 0 ? -error : error;
    if (magnitude > max_abs_error_) max_abs_error_ = magnitude;
  }
  // Chan et al.'s combination of two Welford states: exact for sums, stable for the variance.
  void merge(const ErrorStats& other);

  uint64_t count() const { return count_; }
  uint64_t differing() const { return differ_; }
  double differ_fraction() const;
  // Mean squared error, and error energy / count split into its mean and spread:
  // mse = mean_error^2 + error_variance.
  double mse() const;
  double mean_error() const { return mean_error_; }
  double error_variance() const;  // population variance of (t - r)
  double max_abs_error() const { return max_abs_error_; }
  double signal_power() const;  // mean r^2
  // 10·log10(sum r^2 / sum (t - r)^2): +inf when the outputs are identical, -inf when the
  // reference is all zero but the tested value is not.
  double sqnr_db() const;
  // sum r·t / sqrt(sum r^2 · sum t^2): 1 when both are all zero, 0 when only one is.
  double cosine() const;

 private:
  uint64_t count_ = 0, differ_ = 0;
  double signal_ = 0.0, tested_power_ = 0.0, cross_ = 0.0;
  double mean_error_ = 0.0, m2_ = 0.0;
  double max_abs_error_ = 0.0;
};

}  // namespace octet::quant
