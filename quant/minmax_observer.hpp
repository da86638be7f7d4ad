#pragma once
// MinMax observer: the running minimum and maximum of everything observed.
// Asymmetric range = [min, max]; symmetric range = [-T, T] with T = max(|min|, |max|).
// Also the per-channel weight helper (weights are observed once, per output channel).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "quant/observer.hpp"

namespace octet::quant {

class MinMaxObserver final : public Observer {
 public:
  const char* name() const override { return "minmax"; }
  void observe(const float* values, size_t count) override;
  bool empty() const override { return empty_; }
  Range range(const RangeRequest& request) const override;

 private:
  bool empty_ = true;
  float min_ = 0.0f;
  float max_ = 0.0f;
};

// Min and max of one batch (count >= 1). Throws octet::Error naming `who` on a null pointer or a
// non-finite value (with its index).
struct BatchExtrema {
  float min;
  float max;
};
BatchExtrema batch_min_max(const float* values, size_t count, const char* who);

// max |w| of each of `channels` contiguous blocks of `per_channel` weights (OIHW / [N,K] weights
// are contiguous per output channel). Throws octet::Error on negative sizes or a non-finite
// weight (naming the channel).
std::vector<float> per_channel_absmax(const float* weights, int64_t channels, int64_t per_channel);

}  // namespace octet::quant
