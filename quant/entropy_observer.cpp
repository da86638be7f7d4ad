#include "quant/entropy_observer.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "graph/error.hpp"

namespace octet::quant {
namespace {

double xlogx(double x) { return x > 0.0 ? x * std::log(x) : 0.0; }

// Threshold search on a magnitude histogram; returns T in [0, max_magnitude].
double kl_threshold(const BinnedCounts& magnitudes, int quant_levels, double max_magnitude) {
  const size_t i = kl_threshold_bins(magnitudes.counts, quant_levels);
  if (i >= magnitudes.counts.size()) return max_magnitude;
  return std::min(magnitudes.edge(static_cast<int64_t>(i)), max_magnitude);
}

}  // namespace

std::vector<double> kl_divergence_curve(const std::vector<uint64_t>& counts, int quant_levels) {
  const double inf = std::numeric_limits<double>::infinity();
  const size_t m = counts.size();
  std::vector<double> curve(m + 1, inf);
  if (quant_levels < 1) return curve;
  const size_t nq = static_cast<size_t>(quant_levels);

  // Prefix sums over bins [0, b).
  std::vector<double> sum_c(m + 1, 0.0), sum_nz(m + 1, 0.0), sum_clogc(m + 1, 0.0);
  for (size_t b = 0; b < m; ++b) {
    const double c = static_cast<double>(counts[b]);
    sum_c[b + 1] = sum_c[b] + c;
    sum_nz[b + 1] = sum_nz[b] + (c > 0.0 ? 1.0 : 0.0);
    sum_clogc[b + 1] = sum_clogc[b] + xlogx(c);
  }
  const double n = sum_c[m];
  if (n <= 0.0) return curve;
  const double log_n = std::log(n);

  for (size_t i = nq; i <= m; ++i) {
    const double q_total = sum_c[i];  // counts below the threshold
    if (q_total <= 0.0) continue;
    const double outliers = n - q_total;
    const double last = static_cast<double>(counts[i - 1]);
    const double last_p = last + outliers;
    // Σ p log p with p = c'/N, where c' is the clipped counts (sum N).
    const double s = sum_clogc[i] - xlogx(last) + xlogx(last_p);
    const double p_log_p = s / n - log_n;
    // Σ p log q, level by level: q is constant over the non-zero bins of a level.
    double p_log_q = 0.0;
    for (size_t j = 0; j < nq; ++j) {
      const size_t begin = j * i / nq;
      const size_t end = (j + 1) * i / nq;
      if (begin == end) continue;  // cannot happen for i >= nq, kept for safety
      const double q_sum = sum_c[end] - sum_c[begin];
      double p_sum = q_sum;
      double nonzero = sum_nz[end] - sum_nz[begin];
      if (end == i) {
        p_sum += outliers;
        if (last == 0.0 && last_p > 0.0) nonzero += 1.0;
      }
      if (p_sum <= 0.0) continue;
      const double q_bin = q_sum > 0.0 ? q_sum / (nonzero * q_total) : 0.5 / q_total;
      p_log_q += (p_sum / n) * std::log(q_bin);
    }
    curve[i] = p_log_p - p_log_q;
  }
  return curve;
}

size_t kl_threshold_bins(const std::vector<uint64_t>& counts, int quant_levels) {
  const size_t m = counts.size();
  if (quant_levels < 1 || m <= static_cast<size_t>(quant_levels)) return m;
  const std::vector<double> curve = kl_divergence_curve(counts, quant_levels);
  size_t best = m;
  double best_kl = curve[m];
  for (size_t i = m; i-- > static_cast<size_t>(quant_levels);) {
    if (curve[i] < best_kl) {
      best_kl = curve[i];
      best = i;
    }
  }
  return best;
}

// The magnitude histogram without the exact zeros: zero is representable at every threshold, so
// the mass of post-ReLU zeros (often half of all values) must not steer the KL search. With
// it, the spike in bin 0 dominates both P and Q and the search clips real activations hard.
BinnedCounts EntropyObserver::magnitudes_without_zeros() const {
  BinnedCounts bins = hist_.abs_bins();
  if (!bins.counts.empty() && bins.first_index == 0) {
    const uint64_t zeros = std::min<uint64_t>(hist_.zeros(), bins.counts[0]);
    bins.counts[0] -= zeros;
  }
  return bins;
}

Range EntropyObserver::range(const RangeRequest& request) const {
  check_range_request(*this, request);
  if (hist_.zeros() == hist_.total()) return {0.0f, 0.0f};
  const double mn = hist_.min();
  const double mx = hist_.max();
  const double max_abs = hist_.max_abs();
  if (request.symmetric) {
    const float t = static_cast<float>(kl_threshold(magnitudes_without_zeros(), request.levels / 2, max_abs));
    return {-t, t};
  }
  if (mn >= 0.0) {
    // Post-ReLU: every level of the grid is spent on [0, T].
    const float t = static_cast<float>(kl_threshold(magnitudes_without_zeros(), request.levels, max_abs));
    return {0.0f, t};
  }
  if (mx <= 0.0) {
    // abs_bins() folds [i·w, (i+1)·w) onto bin -i-1 exactly like a histogram of -x would be.
    const float t = static_cast<float>(kl_threshold(magnitudes_without_zeros(), request.levels, max_abs));
    return {-t, 0.0f};
  }
  const double t = kl_threshold(magnitudes_without_zeros(), request.levels / 2, max_abs);
  return {static_cast<float>(std::max(-t, mn)), static_cast<float>(std::min(t, mx))};
}

}  // namespace octet::quant
