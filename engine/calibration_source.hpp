#pragma once
// Where post-training quantization gets its sample inputs: calibration, and the runs of bias
// correction.
#include <cstddef>
#include <functional>

#include "graph/tensor.hpp"

namespace octet {

struct CalibrationSource {
  size_t count = 0;
  // Writes sample i into the (single) model input, shaped as the model expects.
  std::function<void(size_t index, Tensor& input)> fill;
};

}  // namespace octet
