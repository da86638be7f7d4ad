#pragma once
// MSE observer: the clip range that minimizes the expected squared quantization error of the
// observed distribution, estimated from the growable histogram.
//
// Error model for a candidate range [L, H] (L <= 0 <= H after the widening choose_qparams does;
// step Δ = (H − L)/(levels − 1), or 2T/(levels − 1) for symmetric [-T, T]):
//   clipping error: Σ over values beyond the range of (x − bound)², computed exactly under the
//     assumption that each bin's count is spread uniformly over its support (the bin interval
//     intersected with the observed [min, max]): E[(x − t)²] = (mean − t)² + width²/12;
//   rounding error: Δ²/12 per non-zero value (the uniform-rounding approximation, NOT bin
//     centers quantized with the candidate grid: with bins about as wide as Δ the latter
//     aliases). Clipped values pay it too: they land on the end of the grid, which after
//     zero-point rounding sits up to Δ/2 from the bound (this also stops the search from
//     "clipping" a point mass at its own value to save its rounding error). Exact zeros are
//     represented exactly by every grid and cost nothing.
// Candidates: thresholds on the bin edges k·w of each side, plus the exact extremum (no clip),
// on the |x| histogram (symmetric) or the zero-anchored signed histogram (asymmetric); both are
// coarsened so that they hold at most max_bins bins including bin 0.
// Per-side suffix sums (Σc, Σc·mean, Σc·(mean² + width²/12)) make each candidate O(1).
//   symmetric: every edge of the |x| histogram (<= max_bins + 1 candidates), range [-T, T];
//   asymmetric, one sign only (e.g. post-ReLU): every edge of that side; the other bound stays at
//     the observed extremum ([min, H] or [L, max]);
//   asymmetric, both signs: lo on the negative side's edges × hi on the positive side's edges,
//     first on a grid of at most 129 × 129 (every ceil(n/128)-th edge plus the extremum), then
//     refined at every edge within one coarse step of the best pair (~17k evaluations in all).
// Ties go to the wider range.
#include <cstddef>

#include "quant/histogram.hpp"
#include "quant/observer.hpp"

namespace octet::quant {

class MseObserver final : public Observer {
 public:
  explicit MseObserver(int max_bins = Histogram::kDefaultMaxBins) : hist_(max_bins) {}

  const char* name() const override { return "mse"; }
  void observe(const float* values, size_t count) override { hist_.add(values, count); }
  bool empty() const override { return hist_.empty(); }
  Range range(const RangeRequest& request) const override;

  const Histogram& histogram() const { return hist_; }

 private:
  Histogram hist_;
};

}  // namespace octet::quant
