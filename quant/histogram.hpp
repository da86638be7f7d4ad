#pragma once
// The growable histogram shared by the percentile, entropy and MSE observers.
//
// Bins live on a power-of-two grid anchored at 0: with width w = 2^e, bin i covers
// [i·w, (i+1)·w), i a signed index. Because w is a power of two, x/w is exact in double for every
// finite float, so binning is exact (no rounding can move a value to a neighbouring bin).
//
// Growth: the histogram keeps the contiguous index range [floor(min/w), floor(max/w)] of the data
// seen so far and at most max_bins (default 2048) bins. When a batch extends the range beyond that
// budget, w doubles (as many times as needed) and bins merge exactly: bin i -> floor(i/2^k). Since
// floor(floor(x/w)/2^k) = floor(x/(2^k·w)), the merged histogram equals, count for count, the
// histogram of all the data binned directly at the final width. No value is kept.
//
// Initial width (first batch with range [lo, hi]): the smallest power of two for which the batch
// spans at most max_bins bins, but at least 2^-20·max(|lo|, |hi|) (so that a constant or
// near-constant first batch does not pick an absurdly fine grid) and at least 2^-170.
// Exact minimum, maximum, count of exact zeros and total are tracked alongside.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace octet::quant {

// Counts on the grid: counts[j] is bin first_index + j, covering [edge(i), edge(i+1)).
struct BinnedCounts {
  int exponent = 0;  // bin width 2^exponent
  int64_t first_index = 0;
  std::vector<uint64_t> counts;

  double width() const;
  double edge(int64_t index) const;  // index · width (exact)
  int64_t end_index() const { return first_index + static_cast<int64_t>(counts.size()); }
  uint64_t total() const;
};

// Exact re-binning at the coarser width 2^exponent (exponent >= in.exponent): bin i -> floor(i /
// 2^(exponent - in.exponent)).
BinnedCounts coarsen(const BinnedCounts& in, int exponent);

class Histogram {
 public:
  static constexpr int kDefaultMaxBins = 2048;
  static constexpr int kMinExponent = -170;
  static constexpr int kRelativeResolutionBits = 20;

  // max_bins >= 2 (two bins are needed to straddle 0), else octet::Error.
  explicit Histogram(int max_bins = kDefaultMaxBins);

  // Adds one batch. Throws octet::Error on a null pointer or a non-finite value (the histogram is
  // left unchanged). count == 0 is a no-op.
  void add(const float* values, size_t count);

  bool empty() const { return total_ == 0; }
  uint64_t total() const { return total_; }
  uint64_t zeros() const { return zeros_; }  // values exactly ±0 (counted in bin 0 as well)
  float min() const { return min_; }         // 0 when empty
  float max() const { return max_; }
  float max_abs() const;
  int max_bins() const { return max_bins_; }
  const BinnedCounts& bins() const { return bins_; }

  // Histogram of |x| on the same grid (first_index 0): signed bin i >= 0 stays bin i, bin i < 0
  // (the interval [i·w, (i+1)·w)) folds onto the mirror bin -i-1. Exact except that a negative
  // value lying exactly on a bin edge, |x| = k·w, is counted in bin k-1 (its closed upper edge).
  // Coarsened (exactly) as needed so that it has at most max_bins bins: data far from 0 gives a
  // long |x| range.
  BinnedCounts abs_bins() const;

  // The signed histogram extended (with empty bins) to contain bin 0, and coarsened (exactly) as
  // needed so that it has at most max_bins bins: the view of a quantizer, whose range always
  // includes 0.
  BinnedCounts zero_anchored_bins() const;

 private:
  int initial_exponent(double lo, double hi) const;

  int max_bins_;
  uint64_t total_ = 0;
  uint64_t zeros_ = 0;
  float min_ = 0.0f;
  float max_ = 0.0f;
  BinnedCounts bins_;
};

}  // namespace octet::quant
