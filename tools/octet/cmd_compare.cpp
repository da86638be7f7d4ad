// octet compare MODEL.onnx --calib SPEC --data SPEC: the table people write by hand after
// quantizing — fp32 vs int8 static vs int8 dynamic: top-1, top-5, size, latency. --sweep adds
// every observer × weight granularity × activation scheme.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

#include "engine/session.hpp"
#include "graph/model_file.hpp"
#include "quant/observer.hpp"
#include "tools/octet/backend_options.hpp"
#include "tools/octet/commands.hpp"
#include "tools/octet/evaluate.hpp"
#include "tools/octet/model_loader.hpp"
#include "tools/octet/quantize_options.hpp"

namespace octet::cli {
namespace {

struct Row {
  std::string name;
  EvalResult eval;
  size_t bytes = 0;
};

}  // namespace

Command add_compare_command(CLI::App& app) {
  auto* sub = app.add_subcommand("compare", "Accuracy, size and latency of fp32 vs int8 static vs int8 dynamic");
  struct Options {
    std::string model;
    BackendFlags backend;
    QuantizeFlags flags;
    DataOptions data;
    int threads = 1;
    bool sweep = false, json = false;
  };
  auto o = std::make_shared<Options>();
  sub->add_option("model", o->model, "fp32 model (.onnx)")->required();
  add_quantize_flags(*sub, o->flags, true);
  sub->add_option("--data", o->data.spec, "Evaluation data spec")->required();
  sub->add_option("--data-labels", o->data.labels, "Labels .npy for --data x.npy");
  sub->add_option("--limit", o->data.limit, "Evaluate the first N samples only");
  sub->add_option("--threads", o->threads, "Worker threads")->capture_default_str()->check(CLI::Range(1, 256));
  add_backend_flags(*sub, o->backend, "ref");
  sub->add_flag("--sweep", o->sweep, "Every observer x {per-channel, per-tensor} x {asymmetric, symmetric}");
  sub->add_flag("--json", o->json, "Print the rows as JSON");
  return [o]() {
    o->data.mean = o->flags.calib.mean;  // evaluation sees the same normalization as calibration
    o->data.std = o->flags.calib.std;
    const data::Dataset calib = load_data(o->flags.calib);
    const data::Dataset test = load_data(o->data);
    const Model fp32 = load_model(o->model);
    std::vector<Row> rows;
    auto evaluate = [&](const Model& model, const std::string& name, size_t bytes) {
      const SessionOptions session = session_options(o->backend, model);
      rows.push_back({name, evaluate_classifier(compile(model, session), test, o->threads, name), bytes});
    };
    evaluate(fp32, "fp32", file_bytes(o->model));

    std::vector<QuantizeFlags> configs;
    if (o->sweep) {
      for (const auto& observer : quant::observer_kinds())
        for (const char* weights : {"per-channel", "per-tensor"})
          for (const char* activations : {"asymmetric", "symmetric"}) {
            if (o->flags.target == "npu" && std::string(weights) == "per-channel") continue;
            QuantizeFlags flags = o->flags;
            flags.observer = observer;
            flags.weights = weights;
            flags.activations = activations;
            configs.push_back(flags);
          }
    } else {
      configs.push_back(o->flags);
    }
    // The 7-bit weight mode (exact on the AVX2 fast path): its accuracy cost, measured.
    QuantizeFlags seven_bit = o->flags;
    seven_bit.weight_bits = o->flags.weight_bits == 8 ? 7 : 8;
    configs.push_back(seven_bit);
    QuantizeFlags dynamic = o->flags;
    dynamic.mode = "dynamic";
    dynamic.bias_correction = false;  // it needs calibrated activations
    configs.push_back(dynamic);
    for (QuantizeFlags& flags : configs) {
      const bool is_dynamic = flags.mode == "dynamic";
      if (!is_dynamic) flags.mode = "static";
      QuantizationSummary summary;
      Model int8 = quantize_with_dataset(fp32, to_options(flags), &calib, flags.calib_count, summary);
      const std::string passes = ptq_passes(flags);
      const std::string suffix = (flags.weight_bits == 7 ? " w7" : "") + (passes.empty() ? "" : " " + passes);
      const std::string weights = weight_granularity(flags);
      const std::string name = is_dynamic ? "int8 dynamic " + weights + suffix
                                          : "int8 static " + flags.observer + " " + weights + " " +
                                                flags.activations + suffix;
      evaluate(int8, name, serialize_model(int8.graph()).size());
    }

    if (o->json) {
      nlohmann::json out = nlohmann::json::array();
      for (const Row& row : rows)
        out.push_back({{"config", row.name}, {"top1", row.eval.top1}, {"top5", row.eval.top5},
                       {"samples", row.eval.samples}, {"bytes", row.bytes},
                       {"size_ratio", static_cast<double>(row.bytes) / static_cast<double>(rows[0].bytes)},
                       {"latency_ms", {{"p50", row.eval.latency_p50_ms}}}});
      std::cout << out.dump(2) << "\n";
      return 0;
    }
    std::printf("%zu test samples, %zu calibration samples, backend %s\n\n", test.size(),
                std::min(o->flags.calib_count, calib.size()), o->backend.backend.c_str());
    std::printf("| %-50s | %7s | %7s | %8s | %10s | %6s | %10s |\n", "model", "top-1", "top-5", "Δ top-1",
                "size (KB)", "size×", "latency ms");
    std::printf("|%s|%s|%s|%s|%s|%s|%s|\n", std::string(52, '-').c_str(), std::string(9, '-').c_str(),
                std::string(9, '-').c_str(), std::string(10, '-').c_str(), std::string(12, '-').c_str(),
                std::string(8, '-').c_str(), std::string(12, '-').c_str());
    for (const Row& row : rows)
      std::printf("| %-50s | %7.2f | %7.2f | %+8.2f | %10.1f | %6.3f | %10.3f |\n", row.name.c_str(),
                  100.0 * row.eval.top1, 100.0 * row.eval.top5, 100.0 * (row.eval.top1 - rows[0].eval.top1),
                  static_cast<double>(row.bytes) / 1024.0,
                  static_cast<double>(row.bytes) / static_cast<double>(rows[0].bytes), row.eval.latency_p50_ms);
    return 0;
  };
}

}  // namespace octet::cli
