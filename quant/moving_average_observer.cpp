#include "quant/moving_average_observer.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "graph/error.hpp"
#include "quant/minmax_observer.hpp"

namespace octet::quant {

MovingAverageObserver::MovingAverageObserver(double averaging_constant) : c_(averaging_constant) {
  if (!(c_ > 0.0 && c_ <= 1.0)) {
    throw Error("moving-average observer: averaging constant must be in (0, 1], got " +
                std::to_string(averaging_constant));
  }
}

void MovingAverageObserver::observe(const float* values, size_t count) {
  if (count == 0) return;
  const BatchExtrema e = batch_min_max(values, count, "moving-average observer");
  if (empty_) {
    min_ = e.min;
    max_ = e.max;
    empty_ = false;
  } else {
    min_ += c_ * (static_cast<double>(e.min) - min_);
    max_ += c_ * (static_cast<double>(e.max) - max_);
  }
}

Range MovingAverageObserver::range(const RangeRequest& request) const {
  check_range_request(*this, request);
  const float lo = static_cast<float>(min_);
  const float hi = static_cast<float>(max_);
  if (request.symmetric) {
    const float t = std::max(std::fabs(lo), std::fabs(hi));
    return {-t, t};
  }
  return {lo, hi};
}

}  // namespace octet::quant
