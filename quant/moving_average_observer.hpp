#pragma once
// Moving-average MinMax observer (PyTorch MovingAverageMinMaxObserver semantics): each batch's
// min and max feed an exponential moving average, v = v + c·(batch − v), c = 0.01 by default;
// the first batch initializes v. Symmetric range = [-T, T], T = max(|min_avg|, |max_avg|).
// Suited to activations observed over many batches: a single outlier batch moves the range by
// only c of its excess.
#include <cstddef>

#include "quant/observer.hpp"

namespace octet::quant {

class MovingAverageObserver final : public Observer {
 public:
  static constexpr double kDefaultAveragingConstant = 0.01;
  // 0 < averaging_constant <= 1, else octet::Error.
  explicit MovingAverageObserver(double averaging_constant = kDefaultAveragingConstant);

  const char* name() const override { return "moving-average"; }
  void observe(const float* values, size_t count) override;
  bool empty() const override { return empty_; }
  Range range(const RangeRequest& request) const override;
  double averaging_constant() const { return c_; }

 private:
  double c_;
  bool empty_ = true;
  double min_ = 0.0;  // kept in double so that many small steps do not lose precision
  double max_ = 0.0;
};

}  // namespace octet::quant
