#pragma once
// Post-training quantization of a Model: optional Cross-Layer Equalization of the fp32 graph,
// calibration (the fp32 model run over sample inputs with observer hooks), the quantization
// pass, then optional empirical bias correction on the same samples.
#include <functional>
#include <string>

#include "engine/bias_correction.hpp"
#include "engine/calibration_source.hpp"
#include "engine/model.hpp"
#include "quant/cross_layer_equalization.hpp"
#include "quant/quantize_pass.hpp"

namespace octet {

struct QuantizationSummary {
  quant::QuantizeReport report;
  size_t calibration_samples = 0;
  double calibration_seconds = 0.0;
  quant::EqualizationReport equalization;  // empty unless options.cross_layer_equalization
  BiasCorrectionReport bias_correction;    // empty unless options.bias_correction
  double bias_correction_seconds = 0.0;
};

// Long work reports here: stage ("calibrate", "bias correction"), units done, units in total.
using QuantizeProgress = std::function<void(const std::string& stage, size_t done, size_t total)>;

// Static mode needs `calibration` (count > 0); dynamic mode ignores it and refuses bias
// correction. options.target "npu" requires per-tensor weights. What was applied is recorded in
// the model's metadata (octet.quantization.*). `progress` may be empty.
Model quantize_model(const Model& model, const quant::QuantizeOptions& options,
                     const CalibrationSource& calibration, const QuantizeProgress& progress = {},
                     QuantizationSummary* summary = nullptr);

}  // namespace octet
