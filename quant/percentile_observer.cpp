#include "quant/percentile_observer.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "graph/error.hpp"

namespace octet::quant {

double histogram_quantile(const BinnedCounts& bins, double q) {
  const uint64_t n = bins.total();
  if (n == 0) return 0.0;
  double rank = q * static_cast<double>(n);
  // A percentile given in decimal (99.99) is meant exactly: snap a rank that rounding moved off
  // an integer (0.0001·10000 = 1.0000000000005) back onto it.
  const double nearest = std::round(rank);
  if (std::fabs(rank - nearest) <= 1e-9 * std::max(1.0, rank)) rank = nearest;
  const double w = bins.width();
  double before = 0.0;
  for (size_t j = 0; j < bins.counts.size(); ++j) {
    const double c = static_cast<double>(bins.counts[j]);
    if (c == 0.0) continue;
    const double lower = bins.edge(bins.first_index + static_cast<int64_t>(j));
    if (rank <= before) return lower;  // only for rank <= 0: the first non-empty bin
    if (rank <= before + c) return lower + w * (rank - before) / c;
    before += c;
  }
  // rank > n cannot happen for q <= 1; rounding aside, return the top edge.
  return bins.edge(bins.end_index());
}

PercentileObserver::PercentileObserver(double percentile, int max_bins)
    : percentile_(percentile), hist_(max_bins) {
  if (!(percentile >= 50.0 && percentile <= 100.0)) {
    throw Error("percentile observer: percentile must be in [50, 100], got " +
                std::to_string(percentile));
  }
}

Range PercentileObserver::range(const RangeRequest& request) const {
  check_range_request(*this, request);
  if (request.symmetric) {
    const double max_abs = hist_.max_abs();
    const double q = percentile_ / 100.0;
    const float t =
        static_cast<float>(std::clamp(histogram_quantile(hist_.abs_bins(), q), 0.0, max_abs));
    return {-t, t};
  }
  const double mn = hist_.min();
  const double mx = hist_.max();
  const double q_lo = (100.0 - percentile_) / 100.0;
  const double q_hi = percentile_ / 100.0;
  const double lo = std::clamp(histogram_quantile(hist_.bins(), q_lo), mn, mx);
  const double hi = std::clamp(histogram_quantile(hist_.bins(), q_hi), mn, mx);
  return {static_cast<float>(lo), static_cast<float>(std::max(lo, hi))};
}

}  // namespace octet::quant
