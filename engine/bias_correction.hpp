#pragma once
// Empirical bias correction (Nagel et al. 2019, §4.2). Quantizing weights shifts the mean output
// of a layer: with one scale per tensor, a channel whose weights are small next to the layer's
// largest rounds coarsely, and the rounding does not average out over the channel's weights.
// That shift is a bias, and a later layer cannot tell it from signal. Running the same samples
// through the fp32 model and the int8 model measures it per output channel, before the fused
// activation (quant/bias_correction.hpp), and subtracting it from the int32 bias removes it.
//
// Layers are corrected one at a time in graph (topological) order, the int8 model re-run after
// each, so each layer's measurement includes its inputs' corrections: correcting all layers from
// one run would also fix, in every layer, the error its inputs carried before their own
// correction, and count it twice.
#include <functional>
#include <string>
#include <vector>

#include "engine/model.hpp"
#include "engine/calibration_source.hpp"
#include "engine/session.hpp"

namespace octet {

struct LayerBiasError {
  std::string layer;               // the int8 node's label, "QConv 'layer1.0.conv1'"
  std::vector<double> mean_error;  // per output channel: mean(int8 - fp32) before the activation
  double mean_abs() const;         // mean over channels of |mean_error|
};

// Each QConv/QGemm of `quantized` against its float twin in `fp32` (the graph quantize_static
// was given: CLE applied, if any) on `samples`: one fp32 and one int8 pass. Throws octet::Error
// if an int8 layer has no float twin.
std::vector<LayerBiasError> measure_bias_error(const Model& fp32, const Model& quantized, const CalibrationSource& samples,
                                               const SessionOptions& session = {});

struct BiasCorrectionReport {
  std::vector<LayerBiasError> before;  // each layer's error as measured just before its correction
  size_t samples = 0;
  int64_t saturated_bias_values = 0;
};

// `progress` (may be empty) is called after each sample of each pass with (done, total).
Model correct_bias(const Model& fp32, const Model& quantized, const CalibrationSource& samples,
                   const std::function<void(size_t done, size_t total)>& progress = {},
                   BiasCorrectionReport* report = nullptr, const SessionOptions& session = {});

}  // namespace octet
