#pragma once
// Post-training quantization of a Model: calibration (the fp32 model run over sample inputs
// with observer hooks) followed by the quantization pass.
#include <functional>

#include "engine/model.hpp"
#include "quant/quantize_pass.hpp"

namespace octet {

struct CalibrationSource {
  size_t count = 0;
  // Writes sample i into the (single) model input, shaped as the model expects.
  std::function<void(size_t index, Tensor& input)> fill;
};

struct QuantizationSummary {
  quant::QuantizeReport report;
  size_t calibration_samples = 0;
  double calibration_seconds = 0.0;
};

// Static mode needs `calibration` (count > 0); dynamic mode ignores it. `progress` (may be
// empty) is called after each calibration sample with the number done.
Model quantize_model(const Model& model, const quant::QuantizeOptions& options,
                     const CalibrationSource& calibration,
                     const std::function<void(size_t)>& progress = {},
                     QuantizationSummary* summary = nullptr);

}  // namespace octet
