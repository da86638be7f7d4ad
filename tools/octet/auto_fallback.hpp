#pragma once
// `octet quantize --auto-fallback BUDGET`: keep the fewest layers in fp32 that bring the int8
// model's loss under BUDGET — top-1 points for a classifier, the relative increase of abs_rel
// for a regression model. Layers are tried greedily in the order of their sensitivity (the
// output SQNR their fp32 version recovers alone, engine/sensitivity.hpp), the loss re-measured
// after each one until the budget is met; then every layer the budget allows without is dropped
// again, least sensitive first. The chosen set is quantized with --keep-float and measured once
// more: that is the reported result.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "engine/data/dataset.hpp"
#include "engine/quantize.hpp"
#include "tools/octet/data_options.hpp"

namespace octet::cli {

struct AutoFallbackFlags {
  double budget = -1.0;  // < 0: off
  DataOptions data;      // evaluation data (default: the calibration spec)
  size_t count = 1000;   // evaluation samples
  std::string task = "classification";
  std::string backend = "cpu";
  int threads = 1;
  bool enabled() const { return budget >= 0.0; }
};

void add_auto_fallback_flags(CLI::App& app, AutoFallbackFlags& flags);

struct AutoFallbackResult {
  std::vector<std::string> kept;  // layers left in fp32 (beyond those the user named)
  double fp32_metric = 0.0;       // top-1, or abs_rel against the targets
  double int8_metric = 0.0;       // of the returned model
  double base_loss = 0.0;         // loss of the plain int8 model
  double loss = 0.0;              // loss of the returned model
  bool reached = false;           // loss <= budget
  std::string unit;               // "top-1 points" or "relative abs_rel increase"
  nlohmann::json steps = nlohmann::json::array();

  nlohmann::json to_json(double budget) const;
  // "budget met; fp32 layers kept: a,b; loss 0.1 top-1 points (int8 alone 0.6, budget 0.2)"
  std::string summary(double budget) const;
};

// Quantizes `model` (options, calibration as quantize_with_dataset) with as few fp32 layers as
// the budget allows; prints each step on stderr.
Model quantize_with_auto_fallback(const Model& model, quant::QuantizeOptions options,
                                  const data::Dataset* calib, size_t calib_count,
                                  const DataOptions& calib_data, const AutoFallbackFlags& flags,
                                  QuantizationSummary& summary, AutoFallbackResult& result);

}  // namespace octet::cli
