#pragma once
// Percentile observer: clips the rarest tails, read from the growable histogram.
//   asymmetric: lo = the (100 − p)th percentile, hi = the pth percentile (p = 99.99 by default);
//   symmetric:  T = the pth percentile of |x| (from the folded |x| histogram), range [-T, T].
// Within a bin the value is interpolated linearly (the bin's count is taken as spread uniformly),
// so the result is within one bin width of the exact order statistic; it is clamped to the exact
// observed [min, max] (or [0, max|x|]).
#include <cstddef>

#include "quant/histogram.hpp"
#include "quant/observer.hpp"

namespace octet::quant {

// The value below which a fraction q ∈ [0, 1] of the counts lie: the bin where the cumulative
// count reaches r = q·N, interpolated as edge + width·(r − before)/count. q·N <= 0 gives the lower
// edge of the first non-empty bin, q = 1 the upper edge of the last one. Empty input returns 0.
// A rank within 1e-9 (relative) of an integer is snapped onto it, undoing decimal rounding.
double histogram_quantile(const BinnedCounts& bins, double q);

class PercentileObserver final : public Observer {
 public:
  static constexpr double kDefaultPercentile = 99.99;
  // 50 <= percentile <= 100 (else octet::Error); max_bins as in Histogram.
  explicit PercentileObserver(double percentile = kDefaultPercentile,
                              int max_bins = Histogram::kDefaultMaxBins);

  const char* name() const override { return "percentile"; }
  void observe(const float* values, size_t count) override { hist_.add(values, count); }
  bool empty() const override { return hist_.empty(); }
  Range range(const RangeRequest& request) const override;

  double percentile() const { return percentile_; }
  const Histogram& histogram() const { return hist_; }

 private:
  double percentile_;
  Histogram hist_;
};

}  // namespace octet::quant
