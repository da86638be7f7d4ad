#include "tools/octet/quantize_options.hpp"

#include <algorithm>
#include <memory>
#include <sstream>

#include "graph/error.hpp"
#include "quant/observer.hpp"
#include "tools/octet/progress.hpp"

namespace octet::cli {

void add_quantize_flags(CLI::App& app, QuantizeFlags& f, bool calib_required) {
  add_data_options(app, f.calib, "--calib", false);
  if (!calib_required) app.get_option("--calib")->required(false);
  app.add_option("--calib-count", f.calib_count, "Calibration samples (the first N of --calib)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--observer", f.observer, "Activation observer")
      ->capture_default_str()->check(CLI::IsMember(quant::observer_kinds()));
  app.add_option("--target", f.target, "cpu: per-channel weights by default; npu: a per-tensor-only "
                 "accelerator (per-tensor weights; pair with --cle and --bias-correction)")
      ->capture_default_str()->check(CLI::IsMember({"cpu", "npu"}));
  app.add_option("--weights", f.weights, "Weight granularity (default: per-channel, per-tensor for --target npu)")
      ->check(CLI::IsMember({"per-channel", "per-tensor"}));
  app.add_option("--activations", f.activations, "Activation scheme")
      ->capture_default_str()->check(CLI::IsMember({"asymmetric", "symmetric"}));
  app.add_option("--mode", f.mode, "static: calibrated int8 activations; dynamic: int8 weights, "
                 "activation scales per inference (PyTorch dynamic quantization)")
      ->capture_default_str()->check(CLI::IsMember({"static", "dynamic"}));
  app.add_option("--weight-bits", f.weight_bits, "8: weights in [-127,127]; 7: in [-63,63], exact on the "
                 "AVX2 vpmaddubsw fast path (8-bit weights take an exact 2x slower split there)")
      ->capture_default_str()->check(CLI::IsMember({7, 8}));
  app.add_option("--keep-float", f.keep_float, "Comma-separated node names to keep in fp32");
  app.add_flag("--cle", f.cle, "Cross-Layer Equalization before calibration: balances the channel ranges of "
               "Conv/Gemm -> ReLU -> Conv/Gemm pairs so per-tensor weights lose less; a ReLU6 between a pair is "
               "relaxed to ReLU (as AIMET does), which changes the fp32 function only where activations exceeded 6");
  app.add_flag("--cle-keep-relu6", f.cle_keep_relu6, "With --cle: leave pairs joined by a ReLU6 unequalized "
               "instead of relaxing the ReLU6 to ReLU (the fp32 function stays exactly the same)");
  app.add_flag("--bias-correction", f.bias_correction, "Empirical bias correction after quantization: removes "
               "each layer's mean output shift against fp32, measured on the calibration samples (static mode)");
}

std::string weight_granularity(const QuantizeFlags& f) {
  if (!f.weights.empty()) return f.weights;
  return f.target == "npu" ? "per-tensor" : "per-channel";
}

std::string ptq_passes(const QuantizeFlags& f) {
  if (f.cle && f.bias_correction) return "cle bc";
  return f.cle ? "cle" : f.bias_correction ? "bc" : "";
}

quant::QuantizeOptions to_options(const QuantizeFlags& f) {
  quant::QuantizeOptions options;
  options.mode = f.mode == "dynamic" ? quant::QuantizationMode::dynamic_int8 : quant::QuantizationMode::static_int8;
  options.observer = f.observer;
  if (f.target == "npu" && f.weights == "per-channel")
    throw Error("--target npu runs per-tensor weights only: drop --weights per-channel");
  if (f.bias_correction && f.mode == "dynamic")
    throw Error("--bias-correction needs static mode (it runs the calibration samples)");
  options.target = f.target;
  options.per_channel_weights = weight_granularity(f) == "per-channel";
  if (f.cle_keep_relu6 && !f.cle) throw Error("--cle-keep-relu6 only applies with --cle");
  options.cross_layer_equalization = f.cle;
  options.cle_relax_relu6 = !f.cle_keep_relu6;
  options.bias_correction = f.bias_correction;
  options.symmetric_activations = f.activations == "symmetric";
  options.weight_bits = f.weight_bits;
  std::stringstream names(f.keep_float);
  for (std::string name; std::getline(names, name, ',');)
    if (!name.empty()) options.keep_float.push_back(name);
  return options;
}

Model quantize_with_dataset(const Model& model, const quant::QuantizeOptions& options, const data::Dataset* calib,
                            size_t calib_count, QuantizationSummary& summary) {
  for (const auto& name : options.keep_float) {
    bool found = false;
    for (const auto& node : model.graph().nodes) found = found || node.name == name;
    if (!found) throw Error("--keep-float: no node named '" + name + "' in the model");
  }
  CalibrationSource source;
  if (options.mode == quant::QuantizationMode::static_int8) {
    if (!calib) throw Error("static quantization needs --calib data");
    source.count = std::min(calib_count, calib->size());
    const int64_t expected = shape_elements(model.graph().value_info(model.graph().inputs.at(0)).shape);
    if (static_cast<int64_t>(calib->sample_elements()) != expected)
      throw Error("calibration data '" + calib->name() + "' gives samples of shape " +
                  shape_str(calib->sample_shape()) + ", the model input needs " + std::to_string(expected) +
                  " values");
    source.fill = [calib](size_t i, Tensor& input) { calib->sample(i, input.mutable_data<float>()); };
  }
  // One progress line per stage (calibration, then bias correction's passes).
  std::unique_ptr<Progress> progress;
  std::string stage;
  auto report = [&](const std::string& next, size_t done, size_t total) {
    if (next != stage) {
      if (progress) progress->finish();
      stage = next;
      progress = std::make_unique<Progress>(next == "calibrate" ? "calibrate (" + options.observer + ")" : next, total);
    }
    progress->update(done);
  };
  Model quantized = quantize_model(model, options, source, report, &summary);
  if (progress) progress->finish();
  return quantized;
}

}  // namespace octet::cli
