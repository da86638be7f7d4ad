#include "quant/mse_observer.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace octet::quant {
namespace {

// One side of the distribution as magnitudes m >= 0: bin k has support [k·w, (k+1)·w] clipped to
// [side_min, side_max]. Candidate h (0..bins) clips at t_h = min(h·w, side_max).
class Side {
 public:
  Side(const std::vector<double>& counts, double width, double side_min, double side_max)
      : width_(width), side_max_(side_max), s0_(counts.size() + 1, 0.0),
        s1_(counts.size() + 1, 0.0), s2_(counts.size() + 1, 0.0) {
    for (size_t k = counts.size(); k-- > 0;) {
      const double c = counts[k];
      double a = std::max(static_cast<double>(k) * width, side_min);
      double b = std::min(static_cast<double>(k + 1) * width, side_max);
      if (b < a) b = a;  // a bin holding only the extremum
      const double mean = 0.5 * (a + b);
      const double var = (b - a) * (b - a) / 12.0;
      s0_[k] = s0_[k + 1] + c;
      s1_[k] = s1_[k + 1] + c * mean;
      s2_[k] = s2_[k + 1] + c * (mean * mean + var);
    }
  }
  size_t candidates() const { return s0_.size(); }  // bins + 1
  double threshold(size_t h) const {
    return h + 1 >= s0_.size() ? side_max_ : std::min(static_cast<double>(h) * width_, side_max_);
  }
  // Σ over bins k >= h of c·E[(m − t_h)²].
  double clip_error(size_t h) const {
    const double t = threshold(h);
    return std::max(0.0, s2_[h] - 2.0 * t * s1_[h] + t * t * s0_[h]);
  }
  double total() const { return s0_[0]; }  // non-zero values on this side

 private:
  double width_;
  double side_max_;
  std::vector<double> s0_, s1_, s2_;
};

// Search one side alone: error(h) = clip(h) + total·(step_per_t·t)²/12. Returns t.
double best_single_side(const Side& side, double step_per_t) {
  size_t best = side.candidates() - 1;
  double best_err = std::numeric_limits<double>::infinity();
  for (size_t h = side.candidates(); h-- > 0;) {
    const double step = step_per_t * side.threshold(h);
    const double err = side.clip_error(h) + side.total() * step * step / 12.0;
    if (err < best_err) {
      best_err = err;
      best = h;
    }
  }
  return side.threshold(best);
}

struct Pair {
  size_t lo;
  size_t hi;
};

// Both signs: negative side (magnitudes) and positive side, step = (t_lo + t_hi)/(levels − 1).
Pair best_pair(const Side& neg, const Side& pos, double levels_minus_1) {
  auto error = [&](size_t l, size_t h) {
    const double step = (neg.threshold(l) + pos.threshold(h)) / levels_minus_1;
    return neg.clip_error(l) + pos.clip_error(h) +
           (neg.total() + pos.total()) * step * step / 12.0;
  };
  constexpr size_t kCoarse = 128;
  const size_t nl = neg.candidates();
  const size_t nh = pos.candidates();
  const size_t sl = std::max<size_t>(1, (nl + kCoarse - 1) / kCoarse);
  const size_t sh = std::max<size_t>(1, (nh + kCoarse - 1) / kCoarse);
  // Coarse grid: from the top (no clipping) down, every sl-th / sh-th candidate.
  Pair best{nl - 1, nh - 1};
  double best_err = error(best.lo, best.hi);
  for (size_t l = nl - 1;; l -= std::min(l, sl)) {
    for (size_t h = nh - 1;; h -= std::min(h, sh)) {
      const double e = error(l, h);
      if (e < best_err) {
        best_err = e;
        best = {l, h};
      }
      if (h == 0) break;
    }
    if (l == 0) break;
  }
  // Refinement: every candidate within one coarse step of the best pair.
  const Pair centre = best;
  const size_t l_lo = centre.lo - std::min(centre.lo, sl), l_hi = std::min(nl - 1, centre.lo + sl);
  const size_t h_lo = centre.hi - std::min(centre.hi, sh), h_hi = std::min(nh - 1, centre.hi + sh);
  for (size_t l = l_hi + 1; l-- > l_lo;) {
    for (size_t h = h_hi + 1; h-- > h_lo;) {
      const double e = error(l, h);
      if (e < best_err) {
        best_err = e;
        best = {l, h};
      }
    }
  }
  return best;
}

}  // namespace

Range MseObserver::range(const RangeRequest& request) const {
  check_range_request(*this, request);
  const double levels_minus_1 = static_cast<double>(request.levels - 1);
  const double mn = hist_.min();
  const double mx = hist_.max();
  const double zeros = static_cast<double>(hist_.zeros());

  if (request.symmetric) {
    const BinnedCounts abs = hist_.abs_bins();
    std::vector<double> counts(abs.counts.begin(), abs.counts.end());
    counts[0] -= zeros;  // exact zeros are represented exactly: no error at any threshold
    const double min_abs = mn >= 0.0 ? mn : (mx <= 0.0 ? -mx : 0.0);
    const Side side(counts, abs.width(), min_abs, hist_.max_abs());
    const float t = static_cast<float>(best_single_side(side, 2.0 / levels_minus_1));
    return {-t, t};
  }

  // Split the signed histogram into its two sides (as magnitudes).
  const BinnedCounts bins = hist_.zero_anchored_bins();
  const double w = bins.width();
  std::vector<double> pos, neg;
  for (size_t j = 0; j < bins.counts.size(); ++j) {
    const int64_t i = bins.first_index + static_cast<int64_t>(j);
    const double c = static_cast<double>(bins.counts[j]);
    std::vector<double>& side = i >= 0 ? pos : neg;
    const size_t k = static_cast<size_t>(i >= 0 ? i : -i - 1);
    if (side.size() <= k) side.resize(k + 1, 0.0);
    side[k] += c;
  }
  if (!pos.empty()) pos[0] -= zeros;

  if (mn >= 0.0) {
    const Side side(pos, w, mn, mx);
    const double t = best_single_side(side, 1.0 / levels_minus_1);
    return {static_cast<float>(std::min(mn, t)), static_cast<float>(t)};
  }
  if (mx <= 0.0) {
    // Only negative values (zeros, if any, are in pos and cost nothing).
    const Side side(neg, w, -mx, -mn);
    const double t = best_single_side(side, 1.0 / levels_minus_1);
    return {static_cast<float>(-t), static_cast<float>(std::max(mx, -t))};
  }
  const Side neg_side(neg, w, 0.0, -mn);
  const Side pos_side(pos, w, 0.0, mx);
  const Pair best = best_pair(neg_side, pos_side, levels_minus_1);
  return {static_cast<float>(-neg_side.threshold(best.lo)),
          static_cast<float>(pos_side.threshold(best.hi))};
}

}  // namespace octet::quant
