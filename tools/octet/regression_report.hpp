#pragma once
// Regression metrics as report text and JSON, shared by `eval --task regression` and
// `compare --task regression`.
#include <nlohmann/json.hpp>

#include <string>

#include "tools/octet/regression_metrics.hpp"

namespace octet::cli {

// JSON has no infinity or NaN: such a metric is null (PSNR of identical outputs, abs_rel with
// no reference element above the threshold, anything from a model that output NaN).
nlohmann::json metric_json(double value);
nlohmann::json metrics_json(const RegressionMetrics& metrics);

// Six significant digits; "inf" for the PSNR of identical outputs, "nan" if the model output NaN.
std::string metric_text(double value);
// "MAE 0.0331  abs_rel 0.171  PSNR 23.8 dB"
std::string metrics_text(const RegressionMetrics& metrics);

}  // namespace octet::cli
