// octet quantize MODEL.onnx --calib SPEC -o OUT.oct: post-training quantization to int8.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "graph/error.hpp"
#include "graph/model_file.hpp"
#include "tools/octet/auto_fallback.hpp"
#include "tools/octet/commands.hpp"
#include "tools/octet/model_loader.hpp"
#include "tools/octet/quantize_options.hpp"

namespace octet::cli {

Command add_quantize_command(CLI::App& app) {
  auto* sub = app.add_subcommand("quantize", "Quantize an fp32 model to int8 (static or dynamic) and save it as .oct");
  struct Options {
    std::string model, output;
    QuantizeFlags flags;
    AutoFallbackFlags fallback;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  sub->add_option("model", o->model, "fp32 model (.onnx or .oct)")->required();
  add_quantize_flags(*sub, o->flags, false);
  sub->add_option("-o,--output", o->output, "Output .oct file")->required();
  sub->add_flag("--json", o->json, "Print the summary as one JSON object");
  add_auto_fallback_flags(*sub, o->fallback);
  return [o]() {
    const auto start = std::chrono::steady_clock::now();
    const quant::QuantizeOptions options = to_options(o->flags);
    Model model = load_model(o->model);
    std::unique_ptr<data::Dataset> calib;
    if (options.mode == quant::QuantizationMode::static_int8) {
      if (o->flags.calib.spec.empty()) throw Error("static quantization needs --calib SPEC (or use --mode dynamic)");
      calib = std::make_unique<data::Dataset>(load_data(o->flags.calib));
    }
    QuantizationSummary summary;
    AutoFallbackResult fallback;
    Model quantized = o->fallback.enabled()
                          ? quantize_with_auto_fallback(model, options, calib.get(), o->flags.calib_count,
                                                        o->flags.calib, o->fallback, summary, fallback)
                          : quantize_with_dataset(model, options, calib.get(), o->flags.calib_count, summary);
    save_model_file(quantized.graph(), o->output);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const size_t before = file_bytes(o->model), after = file_bytes(o->output);
    const double ratio = static_cast<double>(after) / static_cast<double>(before);
    const auto& r = summary.report;
    const std::string weights = weight_granularity(o->flags);
    const auto& cle = summary.equalization;
    const auto& bc = summary.bias_correction;
    if (o->json) {
      nlohmann::json out = {{"model", o->model}, {"output", o->output}, {"mode", o->flags.mode},
                            {"observer", o->flags.observer}, {"target", o->flags.target}, {"weights", weights},
                            {"activations", o->flags.activations},
                            {"calibration_samples", summary.calibration_samples},
                            {"calibration_seconds", summary.calibration_seconds}, {"seconds", seconds},
                            {"size_before_bytes", before}, {"size_after_bytes", after}, {"size_ratio", ratio},
                            {"int8_nodes", r.quantized_nodes}, {"float_nodes", r.float_nodes},
                            {"quantize_nodes", r.quantize_nodes}, {"dequantize_nodes", r.dequantize_nodes},
                            {"float_node_reasons", r.float_node_reasons},
                            {"saturated_bias_values", r.saturated_bias_values}};
      if (o->flags.cle)
        out["cle"] = {{"equalized", cle.equalized}, {"skipped", cle.skipped}, {"relaxed_relu6", cle.relaxed},
                      {"iterations", cle.iterations}};
      if (o->flags.bias_correction) {
        nlohmann::json layers = nlohmann::json::array();
        for (const auto& layer : bc.before)
          layers.push_back({{"layer", layer.layer}, {"mean_abs_error_before", layer.mean_abs()}});
        out["bias_correction"] = {{"samples", bc.samples}, {"seconds", summary.bias_correction_seconds},
                                  {"saturated_bias_values", bc.saturated_bias_values}, {"layers", layers}};
      }
      if (o->fallback.enabled()) out["auto_fallback"] = fallback.to_json(o->fallback.budget);
      std::cout << out.dump(2) << "\n";
      return 0;
    }
    std::printf("quantized   %s -> %s (%s)\n", o->model.c_str(), o->output.c_str(), o->flags.mode.c_str());
    if (options.mode == quant::QuantizationMode::static_int8)
      std::printf("settings    target %s, observer %s, weights %s, activations %s\n", o->flags.target.c_str(),
                  o->flags.observer.c_str(), weights.c_str(), o->flags.activations.c_str());
    if (o->flags.cle) {
      std::printf("cle         %zu Conv/Gemm pairs equalized (%d sweeps); %zu layer outputs left alone (read by an "
                  "Add or several nodes, ...)\n",
                  cle.equalized.size(), cle.iterations, cle.skipped.size());
      if (!cle.relaxed.empty())
        std::printf("cle         %zu ReLU6 relaxed to ReLU to equalize through them (--cle-keep-relu6 keeps them)\n",
                    cle.relaxed.size());
    }
    if (o->flags.bias_correction) {
      double shift = 0.0;
      for (const auto& layer : bc.before) shift += layer.mean_abs();
      std::printf("bias corr.  %zu layers on %zu samples in %.1f s; mean |output shift| per channel before "
                  "correction %.3g (average over layers)\n",
                  bc.before.size(), bc.samples, summary.bias_correction_seconds,
                  bc.before.empty() ? 0.0 : shift / static_cast<double>(bc.before.size()));
      if (bc.saturated_bias_values)
        std::printf("warning     %lld corrected bias values saturated int32\n",
                    static_cast<long long>(bc.saturated_bias_values));
    }
    std::printf("calibration %zu samples in %.1f s\n", summary.calibration_samples, summary.calibration_seconds);
    std::printf("nodes       %zu int8, %zu fp32, %zu Quantize, %zu Dequantize\n", r.quantized_nodes, r.float_nodes,
                r.quantize_nodes, r.dequantize_nodes);
    for (const auto& reason : r.float_node_reasons) std::printf("  fp32      %s\n", reason.c_str());
    if (r.saturated_bias_values)
      std::printf("warning     %lld bias values saturated int32\n", static_cast<long long>(r.saturated_bias_values));
    if (o->fallback.enabled()) std::printf("fallback    %s\n", fallback.summary(o->fallback.budget).c_str());
    std::printf("size        %zu -> %zu bytes (%.3fx)\n", before, after, ratio);
    std::printf("time        %.1f s\n", seconds);
    return 0;
  };
}

}  // namespace octet::cli
