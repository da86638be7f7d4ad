#pragma once
// Sensitivity analysis: which layer's quantization costs the most, measured by undoing it alone
// and evaluating the model again on a few samples against the fp32 outputs.
//
// Two kinds of trial per int8 layer (QConv, QGemm, QAdd):
//  - "fp32": the layer runs in float (quant::keep_node_float) — what `octet quantize
//    --keep-float LAYER` does; it recovers what the layer's weights, accumulation and
//    requantization cost, but not a bad range of its output, which its int8 readers still use;
//  - "observer:<kind>": the layer's output gets the range that observer finds on calibration
//    samples (quant::rerange_activation) — how much a better range for that tensor recovers.
// A layer's sensitivity is the best any of its trials recovers: output SQNR against fp32 (the
// ranking), and top-1 for labelled data.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/model.hpp"

namespace octet {

struct SensitivitySamples {
  size_t count = 0;
  std::function<void(size_t index, Tensor& input)> fill;
  std::function<int64_t(size_t index)> label;  // empty: unlabelled
  // Calibration samples for the observer trials (may be the same as the evaluation samples).
  size_t calibration_count = 0;
  std::function<void(size_t index, Tensor& input)> fill_calibration;
};

// A whole-model alternative to score like a layer trial: the same fp32 model quantized another
// way (with CLE, with bias correction). `build` runs only when the trial is scored.
struct ModelTrial {
  std::string name;
  std::function<Model()> build;
};

struct SensitivityOptions {
  std::string backend = "cpu";
  int threads = 1;
  bool keep_float = true;              // "fp32" trials
  std::vector<std::string> observers;  // "observer:<kind>" trials (empty: none)
  bool symmetric_activations = false;  // the scheme the observer trials quantize with
  std::vector<ModelTrial> model_trials;  // scored after the layer trials, not ranked with them
};

struct SensitivityTrial {
  std::string layer;  // node name
  std::string fix;    // "fp32" or "observer:<kind>"
  double output_sqnr_db = 0.0;
  std::optional<double> top1;
  double recovered_sqnr_db = 0.0;  // over the unchanged int8 model
  std::optional<double> recovered_top1;
};

struct LayerSensitivity {
  std::string layer, op;
  SensitivityTrial best;  // the trial recovering the most SQNR
};

struct SensitivityReport {
  size_t samples = 0;
  double base_sqnr_db = 0.0;  // the int8 model as given
  std::optional<double> base_top1, fp32_top1;
  std::vector<SensitivityTrial> trials;
  std::vector<LayerSensitivity> ranking;  // most sensitive first
  std::vector<SensitivityTrial> model_trials;  // one per options.model_trials (layer empty)
};

// `progress` (may be empty) gets (trials done, trials in all).
SensitivityReport analyze_sensitivity(const Model& reference, const Model& tested,
                                      const SensitivitySamples& samples,
                                      const SensitivityOptions& options,
                                      const std::function<void(size_t, size_t)>& progress = {});

}  // namespace octet
