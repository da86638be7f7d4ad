#pragma once
// Calibration observers: each one watches the values of one tensor over the calibration batches
// and returns the real range [lo, hi] to quantize into. Observers are incremental: observe()
// keeps only fixed-size state (running extrema, a bounded histogram), never the activations.
//
// Kinds (make_observer):
//   minmax          running min / max                                   (minmax_observer.hpp)
//   moving-average  EMA of per-batch min / max, constant 0.01           (moving_average_observer.hpp)
//   percentile      99.99th percentile of a growable histogram          (percentile_observer.hpp)
//   entropy         TensorRT-style KL-divergence threshold search       (entropy_observer.hpp)
//   mse             clip range minimizing the expected squared error    (mse_observer.hpp)
// The histogram-based kinds share quant/histogram.hpp (power-of-two bins anchored at 0, at most
// 2048 by default, exact merging when the range grows).
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace octet::quant {

struct RangeRequest {
  bool symmetric = false;  // true: the result is [-T, T] (zero point 0); false: any [lo, hi]
  int levels = 256;        // number of integer levels of the target (256 for int8); >= 2
};

struct Range {
  float lo;
  float hi;
};

class Observer {
 public:
  virtual ~Observer() = default;
  virtual const char* name() const = 0;
  // One calibration batch. `values` must be finite (the caller checks and reports NaN/Inf; the
  // observers still refuse a non-finite value with octet::Error instead of misbehaving). A batch
  // of zero values is ignored.
  virtual void observe(const float* values, size_t count) = 0;
  virtual bool empty() const = 0;  // nothing observed yet
  // The clipping range. lo <= 0 <= hi is NOT guaranteed (choose_qparams widens the range to
  // include 0), but lo <= hi always, and symmetric requests give lo = -hi. Throws octet::Error if
  // empty() or if request.levels < 2.
  virtual Range range(const RangeRequest& request) const = 0;
};

// Throws octet::Error naming the valid kinds when `kind` is unknown.
std::unique_ptr<Observer> make_observer(const std::string& kind);
// {"minmax", "moving-average", "percentile", "entropy", "mse"}
std::vector<std::string> observer_kinds();

// Shared argument checks of range(): throws octet::Error when the observer is empty or the
// request is invalid. `observer` names the observer in the message.
void check_range_request(const Observer& observer, const RangeRequest& request);

}  // namespace octet::quant
