// octet compare MODEL.onnx --calib SPEC --data SPEC: the table people write by hand after
// quantizing — fp32 vs int8 static vs int8 dynamic: accuracy (top-1 for a classifier; MAE,
// abs_rel and PSNR against the targets and against fp32 for a regression model), size, latency.
// --sweep adds every observer × weight granularity × activation scheme; --ptq-ladder gives the
// per-tensor NPU story instead: CPU per-channel, NPU per-tensor, + CLE, + CLE + bias correction,
// and symmetric-only activations, the NPU rows run on the npu backend.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <optional>

#include "engine/session.hpp"
#include "graph/error.hpp"
#include "graph/model_file.hpp"
#include "quant/observer.hpp"
#include "tools/octet/backend_options.hpp"
#include "tools/octet/commands.hpp"
#include "tools/octet/evaluate.hpp"
#include "tools/octet/evaluate_regression.hpp"
#include "tools/octet/model_loader.hpp"
#include "tools/octet/quantize_options.hpp"
#include "tools/octet/regression_report.hpp"

namespace octet::cli {
namespace {

struct Options {
  std::string model, task = "classification";
  BackendFlags backend;
  QuantizeFlags flags;
  DataOptions data;
  int threads = 1;
  bool sweep = false, ladder = false, json = false;
};

// One quantization to evaluate, and where.
struct Config {
  QuantizeFlags flags;
  std::string name;
  BackendFlags backend;
};

struct Row {
  std::string name, backend;
  size_t bytes = 0;
  EvalResult classification;                   // task classification
  std::optional<RegressionResult> regression;  // task regression (vs_reference: against fp32)
};

std::string default_name(const QuantizeFlags& flags) {
  const std::string passes = ptq_passes(flags);
  const std::string suffix = (flags.weight_bits == 7 ? " w7" : "") + (passes.empty() ? "" : " " + passes);
  const std::string weights = weight_granularity(flags);
  if (flags.mode == "dynamic") return "int8 dynamic " + weights + suffix;
  return "int8 static " + flags.observer + " " + weights + " " + flags.activations + suffix;
}

// The default rows: the flags as given, the other weight width, dynamic.
std::vector<Config> default_configs(const Options& o) {
  std::vector<QuantizeFlags> flags;
  if (o.sweep) {
    for (const auto& observer : quant::observer_kinds())
      for (const char* weights : {"per-channel", "per-tensor"})
        for (const char* activations : {"asymmetric", "symmetric"}) {
          if (o.flags.target == "npu" && std::string(weights) == "per-channel") continue;
          QuantizeFlags f = o.flags;
          f.observer = observer;
          f.weights = weights;
          f.activations = activations;
          flags.push_back(f);
        }
  } else {
    flags.push_back(o.flags);
  }
  // The 7-bit weight mode (exact on the AVX2 fast path): its accuracy cost, measured.
  QuantizeFlags seven_bit = o.flags;
  seven_bit.weight_bits = o.flags.weight_bits == 8 ? 7 : 8;
  flags.push_back(seven_bit);
  QuantizeFlags dynamic = o.flags;
  dynamic.mode = "dynamic";
  dynamic.bias_correction = false;  // it needs calibrated activations
  flags.push_back(dynamic);
  std::vector<Config> configs;
  for (QuantizeFlags& f : flags) {
    if (f.mode != "dynamic") f.mode = "static";
    configs.push_back({f, default_name(f), o.backend});
  }
  return configs;
}

// The per-tensor NPU ladder; the observer and calibration flags apply to every rung.
std::vector<Config> ladder_configs(const Options& o) {
  QuantizeFlags base = o.flags;
  base.mode = "static";
  base.weights.clear();
  base.activations = "asymmetric";
  base.cle = base.bias_correction = false;
  BackendFlags npu = o.backend;
  npu.backend = "npu";
  npu.convert_per_tensor = false;
  BackendFlags cpu = o.backend;
  if (cpu.backend == "npu") cpu.backend = "cpu";
  std::vector<Config> configs;
  QuantizeFlags f = base;
  f.target = "cpu";
  configs.push_back({f, "int8 per-channel (CPU)", cpu});
  f.target = "npu";
  configs.push_back({f, "int8 per-tensor (NPU)", npu});
  f.cle = true;
  configs.push_back({f, "int8 per-tensor + CLE (NPU)", npu});
  f.bias_correction = true;
  configs.push_back({f, "int8 per-tensor + CLE + BC (NPU)", npu});
  f.activations = "symmetric";
  configs.push_back({f, "int8 per-tensor + CLE + BC, symmetric activations (NPU)", npu});
  return configs;
}

nlohmann::json row_json(const Row& row, const Row& fp32) {
  nlohmann::json j = {{"config", row.name}, {"backend", row.backend}, {"bytes", row.bytes},
                      {"size_ratio", static_cast<double>(row.bytes) / static_cast<double>(fp32.bytes)}};
  if (row.regression) {
    j["samples"] = row.regression->vs_target.samples();
    j["vs_target"] = metrics_json(row.regression->vs_target);
    if (row.regression->vs_reference) j["vs_fp32"] = metrics_json(*row.regression->vs_reference);
    j["seconds"] = row.regression->seconds;
  } else {
    j["samples"] = row.classification.samples;
    j["top1"] = row.classification.top1;
    j["top5"] = row.classification.top5;
    j["latency_ms"] = {{"p50", row.classification.latency_p50_ms}};
  }
  return j;
}

void print_classification(const std::vector<Row>& rows) {
  std::printf("| %-56s | %-7s | %7s | %7s | %8s | %10s | %6s | %10s |\n", "model", "backend", "top-1", "top-5",
              "Δ top-1", "size (KB)", "size×", "latency ms");
  std::printf("|%s|%s|%s|%s|%s|%s|%s|%s|\n", std::string(58, '-').c_str(), std::string(9, '-').c_str(),
              std::string(9, '-').c_str(), std::string(9, '-').c_str(), std::string(10, '-').c_str(),
              std::string(12, '-').c_str(), std::string(8, '-').c_str(), std::string(12, '-').c_str());
  for (const Row& row : rows)
    std::printf("| %-56s | %-7s | %7.2f | %7.2f | %+8.2f | %10.1f | %6.3f | %10.3f |\n", row.name.c_str(),
                row.backend.c_str(), 100.0 * row.classification.top1, 100.0 * row.classification.top5,
                100.0 * (row.classification.top1 - rows[0].classification.top1),
                static_cast<double>(row.bytes) / 1024.0,
                static_cast<double>(row.bytes) / static_cast<double>(rows[0].bytes),
                row.classification.latency_p50_ms);
}

void print_regression(const std::vector<Row>& rows) {
  std::printf("| %-56s | %-7s | %9s | %9s | %8s | %13s | %12s | %10s | %6s |\n", "model", "backend", "abs_rel",
              "MAE", "PSNR dB", "abs_rel vs fp32", "PSNR vs fp32", "size (KB)", "size×");
  std::printf("|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n", std::string(58, '-').c_str(), std::string(9, '-').c_str(),
              std::string(11, '-').c_str(), std::string(11, '-').c_str(), std::string(10, '-').c_str(),
              std::string(15, '-').c_str(), std::string(14, '-').c_str(), std::string(12, '-').c_str(),
              std::string(8, '-').c_str());
  for (const Row& row : rows) {
    const RegressionMetrics& t = row.regression->vs_target;
    const auto& f = row.regression->vs_reference;
    std::printf("| %-56s | %-7s | %9s | %9s | %8s | %13s | %12s | %10.1f | %6.3f |\n", row.name.c_str(),
                row.backend.c_str(), metric_text(t.abs_rel()).c_str(), metric_text(t.mae()).c_str(),
                metric_text(t.psnr()).c_str(), f ? metric_text(f->abs_rel()).c_str() : "—",
                f ? metric_text(f->psnr()).c_str() : "—", static_cast<double>(row.bytes) / 1024.0,
                static_cast<double>(row.bytes) / static_cast<double>(rows[0].bytes));
  }
}

// The ladder's verdict: how much of the loss per-tensor weights open against per-channel the
// CLE + bias-correction rung closes. Rows: fp32, per-channel, per-tensor, +CLE, +CLE+BC, ...
void print_ladder_gap(const std::vector<Row>& rows, bool regression) {
  auto loss = [&](const Row& row) {  // larger is worse
    return regression ? row.regression->vs_target.abs_rel() : -row.classification.top1;
  };
  const double gap = loss(rows[2]) - loss(rows[1]);
  const char* metric = regression ? "abs_rel" : "top-1";
  const double unit = regression ? 1.0 : 100.0;  // top-1 in points
  if (!(gap > 0.0)) {
    std::printf("\nper-tensor weights open no %s gap against per-channel here (%s %.6g vs %.6g)\n", metric, metric,
                unit * std::abs(loss(rows[2])), unit * std::abs(loss(rows[1])));
    return;
  }
  const double closed = (loss(rows[2]) - loss(rows[4])) / gap;
  std::printf("\nper-tensor weights open a gap of %.4g in %s against per-channel (%.6g vs %.6g); CLE + bias "
              "correction closes %.0f%% of it (%.6g)\n",
              unit * gap, metric, unit * std::abs(loss(rows[2])), unit * std::abs(loss(rows[1])), 100.0 * closed,
              unit * std::abs(loss(rows[4])));
}

}  // namespace

Command add_compare_command(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "compare", "Accuracy, size and latency of fp32 vs int8 (static, dynamic, sweeps, the per-tensor NPU ladder)");
  auto o = std::make_shared<Options>();
  sub->add_option("model", o->model, "fp32 model (.onnx)")->required();
  add_quantize_flags(*sub, o->flags, true);
  sub->add_option("--data", o->data.spec, "Evaluation data spec")->required();
  sub->add_option("--data-labels", o->data.labels, "Labels .npy for --data x.npy");
  sub->add_option("--targets", o->data.targets, "Regression targets .npy for --data x.npy");
  sub->add_option("--limit", o->data.limit, "Evaluate the first N samples only");
  sub->add_option("--task", o->task, "classification (top-1/top-5) or regression (MAE, abs_rel, PSNR against "
                                     "the targets and against the fp32 model's outputs)")
      ->capture_default_str()->check(CLI::IsMember({"classification", "regression"}));
  sub->add_option("--threads", o->threads, "Worker threads")->capture_default_str()->check(CLI::Range(1, 256));
  add_backend_flags(*sub, o->backend, "ref");
  auto* sweep = sub->add_flag("--sweep", o->sweep, "Every observer x {per-channel, per-tensor} x {asymmetric, symmetric}");
  sub->add_flag("--ptq-ladder", o->ladder, "Rows for a per-tensor NPU: CPU per-channel, NPU per-tensor, + CLE, "
                "+ CLE + bias correction, + symmetric-only activations (NPU rows on the npu backend, "
                "--npu-config applies)")
      ->excludes(sweep);
  sub->add_flag("--json", o->json, "Print the rows as JSON");
  return [o]() {
    const bool regression = o->task == "regression";
    if (!regression && !o->data.targets.empty()) throw Error("--targets is only used with --task regression");
    o->data.mean = o->flags.calib.mean;  // evaluation sees the same normalization as calibration
    o->data.std = o->flags.calib.std;
    const data::Dataset calib = load_data(o->flags.calib);
    const data::Dataset test = load_data(o->data);
    const Model fp32 = load_model(o->model);
    const auto fp32_plan = compile(fp32, session_options(o->backend, fp32));
    std::vector<Row> rows;
    auto evaluate = [&](const Model& model, const std::string& name, const BackendFlags& backend, size_t bytes) {
      Row row{name, backend.backend, bytes, {}, std::nullopt};
      const bool is_fp32 = rows.empty();
      const auto plan = is_fp32 ? fp32_plan : compile(model, session_options(backend, model));
      if (regression)
        row.regression = evaluate_regression(plan, is_fp32 ? nullptr : fp32_plan, test, o->threads, name);
      else
        row.classification = evaluate_classifier(plan, test, o->threads, name);
      rows.push_back(std::move(row));
    };
    evaluate(fp32, "fp32", o->backend, file_bytes(o->model));
    for (const Config& config : o->ladder ? ladder_configs(*o) : default_configs(*o)) {
      QuantizationSummary summary;
      Model int8 = quantize_with_dataset(fp32, to_options(config.flags), &calib, config.flags.calib_count, summary);
      evaluate(int8, config.name, config.backend, serialize_model(int8.graph()).size());
    }

    if (o->json) {
      nlohmann::json out = nlohmann::json::array();
      for (const Row& row : rows) out.push_back(row_json(row, rows[0]));
      std::cout << out.dump(2) << "\n";
      return 0;
    }
    std::printf("%s: %zu test samples, %zu calibration samples (%s observer)\n\n", o->model.c_str(), test.size(),
                std::min(o->flags.calib_count, calib.size()), o->flags.observer.c_str());
    if (regression)
      print_regression(rows);
    else
      print_classification(rows);
    if (o->ladder) print_ladder_gap(rows, regression);
    return 0;
  };
}

}  // namespace octet::cli
