#include "quant/histogram.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "graph/error.hpp"

namespace octet::quant {
namespace {

// floor(i / 2^k) for k >= 0, without relying on the sign behaviour of >> on negative values.
int64_t floor_div_pow2(int64_t i, int k) {
  if (k >= 62) return i < 0 ? -1 : 0;  // every index we hold has |i| < 2^62
  if (i >= 0) return i >> k;
  return -(((-i) - 1) >> k) - 1;
}

// floor(x / 2^exponent), exact; as a double so that callers may test spans before converting.
double floor_index(double x, int exponent) { return std::floor(std::ldexp(x, -exponent)); }

// Number of bins of [lo, hi] at width 2^exponent.
double span_bins(double lo, double hi, int exponent) {
  return floor_index(hi, exponent) - floor_index(lo, exponent) + 1.0;
}

}  // namespace

double BinnedCounts::width() const { return std::ldexp(1.0, exponent); }

double BinnedCounts::edge(int64_t index) const {
  return std::ldexp(static_cast<double>(index), exponent);
}

uint64_t BinnedCounts::total() const {
  uint64_t t = 0;
  for (uint64_t c : counts) t += c;
  return t;
}

BinnedCounts coarsen(const BinnedCounts& in, int exponent) {
  if (exponent < in.exponent) {
    throw Error("histogram: cannot coarsen from bin width 2^" + std::to_string(in.exponent) +
                " to the finer 2^" + std::to_string(exponent));
  }
  const int k = exponent - in.exponent;
  BinnedCounts out;
  out.exponent = exponent;
  if (in.counts.empty()) {
    out.first_index = floor_div_pow2(in.first_index, k);
    return out;
  }
  out.first_index = floor_div_pow2(in.first_index, k);
  const int64_t last = floor_div_pow2(in.end_index() - 1, k);
  out.counts.assign(static_cast<size_t>(last - out.first_index + 1), 0);
  for (size_t j = 0; j < in.counts.size(); ++j) {
    const int64_t i = in.first_index + static_cast<int64_t>(j);
    out.counts[static_cast<size_t>(floor_div_pow2(i, k) - out.first_index)] += in.counts[j];
  }
  return out;
}

Histogram::Histogram(int max_bins) : max_bins_(max_bins) {
  if (max_bins < 2) {
    throw Error("histogram: max_bins must be >= 2, got " + std::to_string(max_bins));
  }
}

float Histogram::max_abs() const { return std::max(std::fabs(min_), std::fabs(max_)); }

int Histogram::initial_exponent(double lo, double hi) const {
  int e = kMinExponent;
  const double mag = std::max(std::fabs(lo), std::fabs(hi));
  if (mag > 0.0) e = std::max(e, std::ilogb(mag) - kRelativeResolutionBits);
  const double range = hi - lo;
  // 2^ilogb(r) <= r < 2^(ilogb(r)+1): any width below 2^ilogb(range/max_bins) needs more than
  // max_bins bins, so the search can start there.
  if (range > 0.0) e = std::max(e, std::ilogb(range / max_bins_));
  return e;
}

void Histogram::add(const float* values, size_t count) {
  if (count == 0) return;
  if (values == nullptr) throw Error("histogram: null values with count > 0");
  float bmin = values[0];
  float bmax = values[0];
  uint64_t bzeros = 0;
  for (size_t i = 0; i < count; ++i) {
    const float v = values[i];
    if (!std::isfinite(v)) {
      throw Error("histogram: non-finite value at index " + std::to_string(i));
    }
    bmin = std::min(bmin, v);
    bmax = std::max(bmax, v);
    if (v == 0.0f) ++bzeros;
  }
  const bool first_batch = empty();
  const float nmin = first_batch ? bmin : std::min(min_, bmin);
  const float nmax = first_batch ? bmax : std::max(max_, bmax);

  int e = first_batch ? initial_exponent(nmin, nmax) : bins_.exponent;
  while (span_bins(nmin, nmax, e) > static_cast<double>(max_bins_)) ++e;

  const int64_t lo_index = static_cast<int64_t>(floor_index(nmin, e));
  const int64_t hi_index = static_cast<int64_t>(floor_index(nmax, e));
  if (first_batch) {
    bins_.exponent = e;
    bins_.first_index = lo_index;
    bins_.counts.assign(static_cast<size_t>(hi_index - lo_index + 1), 0);
  } else {
    if (e > bins_.exponent) bins_ = coarsen(bins_, e);
    // The data range only grows, so the new index range contains the old one.
    const int64_t grow_front = bins_.first_index - lo_index;
    if (grow_front > 0) bins_.counts.insert(bins_.counts.begin(), static_cast<size_t>(grow_front), 0);
    bins_.first_index = lo_index;
    bins_.counts.resize(static_cast<size_t>(hi_index - lo_index + 1), 0);
  }

  const double inv_width = std::ldexp(1.0, -e);
  uint64_t* c = bins_.counts.data();
  for (size_t i = 0; i < count; ++i) {
    const int64_t index =
        static_cast<int64_t>(std::floor(static_cast<double>(values[i]) * inv_width));
    ++c[index - lo_index];
  }
  min_ = nmin;
  max_ = nmax;
  total_ += count;
  zeros_ += bzeros;
}

BinnedCounts Histogram::abs_bins() const {
  BinnedCounts out;
  out.exponent = bins_.exponent;
  out.first_index = 0;
  if (bins_.counts.empty()) return out;
  const int64_t last = bins_.end_index() - 1;
  // Largest folded index at the current width, then the coarsening that fits the budget.
  const int64_t top = std::max(last, -bins_.first_index - 1);
  int k = 0;
  while (floor_div_pow2(top, k) + 1 > max_bins_) ++k;
  out.exponent = bins_.exponent + k;
  out.counts.assign(static_cast<size_t>(floor_div_pow2(top, k) + 1), 0);
  for (size_t j = 0; j < bins_.counts.size(); ++j) {
    const int64_t i = bins_.first_index + static_cast<int64_t>(j);
    const int64_t folded = i >= 0 ? i : -i - 1;
    out.counts[static_cast<size_t>(floor_div_pow2(folded, k))] += bins_.counts[j];
  }
  return out;
}

BinnedCounts Histogram::zero_anchored_bins() const {
  if (bins_.counts.empty()) return bins_;
  const int64_t lo = std::min<int64_t>(bins_.first_index, 0);
  const int64_t hi = std::max<int64_t>(bins_.end_index() - 1, 0);
  int k = 0;  // terminates: with max_bins >= 2, [-1, 0] always fits
  while (floor_div_pow2(hi, k) - floor_div_pow2(lo, k) + 1 > max_bins_) ++k;
  BinnedCounts out = coarsen(bins_, bins_.exponent + k);
  const int64_t new_lo = floor_div_pow2(lo, k);
  const int64_t new_hi = floor_div_pow2(hi, k);
  out.counts.insert(out.counts.begin(), static_cast<size_t>(out.first_index - new_lo), 0);
  out.first_index = new_lo;
  out.counts.resize(static_cast<size_t>(new_hi - new_lo + 1), 0);
  return out;
}

}  // namespace octet::quant
