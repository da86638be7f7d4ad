#include "engine/quantize.hpp"

#include <chrono>

#include "engine/session.hpp"
#include "graph/error.hpp"
#include "quant/calibration_hook.hpp"

namespace octet {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void check_options(const quant::QuantizeOptions& options) {
  if (options.target != "cpu" && options.target != "npu")
    throw Error("unknown quantization target '" + options.target + "' (known: cpu, npu)");
  if (options.target == "npu" && options.per_channel_weights)
    throw Error("target npu takes per-tensor weights only, but per-channel weights were requested");
  if (options.bias_correction && options.mode == quant::QuantizationMode::dynamic_int8)
    throw Error("bias correction needs static quantization (calibration data), not dynamic mode");
}

// The fp32 model the quantization starts from: the input model, or its equalized copy.
Model equalized(const Model& model, const quant::QuantizeOptions& options, quant::EqualizationReport& report) {
  if (!options.cross_layer_equalization) return model;
  Graph graph = model.graph();
  quant::EqualizationOptions equalization;
  equalization.relax_relu6 = options.cle_relax_relu6;
  report = quant::equalize_cross_layer(graph, equalization);
  return Model::from_graph(std::move(graph), false);
}

void record_settings(Graph& graph, const quant::QuantizeOptions& options, const quant::EqualizationReport& cle) {
  graph.metadata["octet.quantization.target"] = options.target;
  graph.metadata["octet.quantization.cross_layer_equalization"] = options.cross_layer_equalization ? "on" : "off";
  if (options.cross_layer_equalization)
  {
    graph.metadata["octet.quantization.cross_layer_equalization_pairs"] = std::to_string(cle.equalized.size());
    graph.metadata["octet.quantization.cross_layer_equalization_relaxed_relu6"] = std::to_string(cle.relaxed.size());
  }
  if (!options.bias_correction) graph.metadata["octet.quantization.bias_correction"] = "off";
}

}  // namespace

Model quantize_model(const Model& model, const quant::QuantizeOptions& options,
                     const CalibrationSource& calibration, const QuantizeProgress& progress,
                     QuantizationSummary* summary) {
  QuantizationSummary local;
  QuantizationSummary& s = summary ? *summary : local;
  for (const auto& entry : model.graph().initializers)
    if (entry.second.dtype() == DType::i8) throw Error("model is already quantized");
  check_options(options);
  const Model fp32 = equalized(model, options, s.equalization);
  if (options.mode == quant::QuantizationMode::dynamic_int8) {
    Graph quantized = quant::quantize_dynamic(fp32.graph(), options, &s.report);
    record_settings(quantized, options, s.equalization);
    return Model::from_graph(std::move(quantized), false);
  }

  if (calibration.count == 0 || !calibration.fill)
    throw Error("static quantization needs calibration data (at least one sample)");
  if (fp32.graph().inputs.size() != 1) throw Error("calibration supports models with one input");
  const auto start = std::chrono::steady_clock::now();
  Session session(fp32);
  quant::CalibrationHook hook(fp32.graph(), options.observer);
  session.add_hook(&hook);
  Tensor input(session.input_info(0).dtype, session.input_info(0).shape);
  for (size_t i = 0; i < calibration.count; ++i) {
    calibration.fill(i, input);
    session.run({input});
    if (progress) progress("calibrate", i + 1, calibration.count);
  }
  s.calibration_samples = calibration.count;
  s.calibration_seconds = seconds_since(start);
  quant::RangeProvider ranges = [&hook](const std::string& value, const quant::RangeRequest& request) {
    return hook.range(value, request);
  };
  Graph quantized = quant::quantize_static(fp32.graph(), ranges, options, &s.report);
  quantized.metadata["octet.quantization.calibration_samples"] = std::to_string(calibration.count);
  record_settings(quantized, options, s.equalization);
  Model result = Model::from_graph(std::move(quantized), false);
  if (!options.bias_correction) return result;

  const auto correction_start = std::chrono::steady_clock::now();
  // The int8 passes run on the SIMD backend, bit-identical to the reference and several times
  // faster; fp32 nodes fall back to the reference kernels either way.
  SessionOptions fast;
  fast.backend = "cpu";
  Model corrected = correct_bias(
      fp32, result, calibration,
      [&](size_t done, size_t total) {
        if (progress) progress("bias correction", done, total);
      },
      &s.bias_correction, fast);
  s.bias_correction_seconds = seconds_since(correction_start);
  return corrected;
}

}  // namespace octet
