#include "quant/minmax_observer.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "graph/error.hpp"

namespace octet::quant {

BatchExtrema batch_min_max(const float* values, size_t count, const char* who) {
  if (count == 0) throw Error(std::string(who) + ": empty batch has no extrema");
  if (values == nullptr) throw Error(std::string(who) + ": null values with count > 0");
  BatchExtrema e{values[0], values[0]};
  for (size_t i = 0; i < count; ++i) {
    const float v = values[i];
    if (!std::isfinite(v)) {
      throw Error(std::string(who) + ": non-finite value at index " + std::to_string(i));
    }
    e.min = std::min(e.min, v);
    e.max = std::max(e.max, v);
  }
  return e;
}

void MinMaxObserver::observe(const float* values, size_t count) {
  if (count == 0) return;
  const BatchExtrema e = batch_min_max(values, count, "minmax observer");
  if (empty_) {
    min_ = e.min;
    max_ = e.max;
    empty_ = false;
  } else {
    min_ = std::min(min_, e.min);
    max_ = std::max(max_, e.max);
  }
}

Range MinMaxObserver::range(const RangeRequest& request) const {
  check_range_request(*this, request);
  if (request.symmetric) {
    const float t = std::max(std::fabs(min_), std::fabs(max_));
    return {-t, t};
  }
  return {min_, max_};
}

std::vector<float> per_channel_absmax(const float* weights, int64_t channels, int64_t per_channel) {
  if (channels < 0 || per_channel < 0) {
    throw Error("per_channel_absmax: negative size (channels " + std::to_string(channels) +
                ", per channel " + std::to_string(per_channel) + ")");
  }
  std::vector<float> out(static_cast<size_t>(channels), 0.0f);
  if (channels == 0 || per_channel == 0) return out;
  if (weights == nullptr) throw Error("per_channel_absmax: null weights");
  for (int64_t c = 0; c < channels; ++c) {
    const float* w = weights + c * per_channel;
    float m = 0.0f;
    for (int64_t i = 0; i < per_channel; ++i) {
      if (!std::isfinite(w[i])) {
        throw Error("per_channel_absmax: non-finite weight in channel " + std::to_string(c) +
                    " at index " + std::to_string(i));
      }
      m = std::max(m, std::fabs(w[i]));
    }
    out[static_cast<size_t>(c)] = m;
  }
  return out;
}

}  // namespace octet::quant
