// octet profile MODEL.oct --ref MODEL.onnx --data SPEC: where an int8 model loses accuracy and
// time, layer by layer, against its fp32 reference, on one or more backends side by side
// (DESIGN.md §4 "Profilers"). Writes JSON, CSV and a self-contained HTML report.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "engine/data/atomic_file.hpp"
#include "engine/profile.hpp"
#include "engine/session.hpp"
#include "graph/error.hpp"
#include "tools/octet/commands.hpp"
#include "tools/octet/data_options.hpp"
#include "tools/octet/evaluate_regression.hpp"
#include "tools/octet/model_loader.hpp"
#include "tools/octet/profile_html.hpp"
#include "tools/octet/profile_json.hpp"
#include "tools/octet/profile_sensitivity.hpp"
#include "tools/octet/profile_suggestions.hpp"
#include "tools/octet/progress.hpp"
#include "tools/octet/regression_metrics.hpp"
#include "tools/octet/regression_report.hpp"

namespace octet::cli {
namespace {

struct Options {
  std::string model, ref, backends = "ref", mode = "both", json, csv, html, task = "classification";
  DataOptions data;
  int threads = 1, accumulator_bits = 24;
  size_t timing_runs = 20;
  bool no_overflow = false;
  SensitivityFlags sensitivity;
};

std::vector<std::string> split_backends(const std::string& list) {
  if (list == "both") return {"cpu", "npu"};  // CPU int8 and the NPU emulation side by side
  std::vector<std::string> names;
  std::stringstream stream(list);
  for (std::string name; std::getline(stream, name, ',');) {
    if (name.empty()) continue;
    const auto known = available_backends();
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      std::string all;
      for (const auto& k : known) all += (all.empty() ? "" : ", ") + k;
      throw Error("--backend: unknown backend '" + name + "' (available: " + all + ")");
    }
    names.push_back(name);
  }
  if (names.empty()) throw Error("--backend: no backend given");
  return names;
}

// --task regression: the model's single f32 output must line up with the dataset's targets.
void check_regression_data(const data::Dataset& dataset, const Graph& graph) {
  const std::string context = "--task regression: ";
  if (graph.outputs.size() != 1) throw Error(context + "the model must have exactly one output");
  const ValueInfo& output = graph.value_info(graph.outputs[0]);
  if (output.dtype != DType::f32) throw Error(context + "model output '" + graph.outputs[0] + "' is not f32");
  check_regression_targets(dataset, graph.outputs[0], output.shape, context);
}

void write_text(const std::string& what, const std::string& path, const std::string& text) {
  data::write_file_atomic(what, path, {{text.data(), text.size()}});
}

std::string db(const nlohmann::json& value) {
  if (value.is_null()) return "inf";
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", value.get<double>());
  return text;
}

// The few lines a terminal needs: accuracy and latency per backend, the worst layers.
void print_summary(const nlohmann::json& p) {
  std::printf("profile   %s vs %s on %s (%zu samples, %s)\n", p["model"].get<std::string>().c_str(),
              p["ref"].get<std::string>().c_str(), p["data"].get<std::string>().c_str(),
              p["samples"].get<size_t>(), p["modes"].dump().c_str());
  auto line = [](const nlohmann::json& s) {
    std::string accuracy =
        "top-1 " + (s.contains("top1") ? std::to_string(s["top1"].get<double>()).substr(0, 6) : std::string("-"));
    if (s.contains("regression")) {
      const nlohmann::json& r = s["regression"];
      auto value = [&](const char* key) { return r[key].is_null() ? std::string("-") : metric_text(r[key].get<double>()); };
      accuracy = "abs_rel " + value("abs_rel") + "  MAE " + value("mae") + "  PSNR " + value("psnr_db") + " dB";
    }
    std::printf(
        "%-9s %s  latency %.3f ms  output SQNR %s dB  (%s%s)\n",
        s["name"].get<std::string>().c_str(), accuracy.c_str(),
        s["latency_ms"]["median"].is_null() ? 0.0 : s["latency_ms"]["median"].get<double>(),
        s.contains("output_sqnr_db") ? db(s["output_sqnr_db"]).c_str() : "-",
        s["isa"].get<std::string>().c_str(),
        s["isa"].get<std::string>().empty() ? s["partition"].get<std::string>().c_str() : "");
  };
  line(p["fp32"]);
  for (const auto& backend : p["backends"]) line(backend);
  const std::string first = p["backends"][0]["name"];
  const char* mode = p["modes"].back() == "local" ? "local" : "propagated";
  std::vector<std::pair<double, std::string>> worst;
  for (const auto& layer : p["layers"]) {
    const auto& entry = layer["backends"][first];
    if (!entry.contains(mode) || entry[mode]["sqnr_db"].is_null()) continue;
    if (layer["op"] == "DequantizeLinear") continue;
    worst.emplace_back(
        entry[mode]["sqnr_db"].get<double>(),
        layer["op"].get<std::string>() + " '" + layer["node"].get<std::string>() + "'");
  }
  std::sort(worst.begin(), worst.end());
  std::printf("worst layers by %s SQNR (%s):\n", mode, first.c_str());
  for (size_t i = 0; i < std::min<size_t>(5, worst.size()); ++i)
    std::printf("  %6.1f dB  %s\n", worst[i].first, worst[i].second.c_str());
  std::printf(
      "memory    peak RSS %.1f MB, fp32 activations held per sample %.1f KB\n",
      static_cast<double>(p["memory"]["peak_rss_bytes"].get<size_t>()) / 1e6,
      static_cast<double>(p["memory"]["reference_activation_bytes"].get<size_t>()) / 1024.0);
}

}  // namespace

Command add_profile_command(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "profile", "Per-layer error, ranges and time of an int8 model against its fp32 reference");
  auto o = std::make_shared<Options>();
  sub->add_option("model", o->model, "int8 model (.oct from octet quantize)")->required();
  sub->add_option("--ref", o->ref, "The fp32 model it was quantized from (.onnx or .oct)")
      ->required();
  add_data_options(*sub, o->data, "--data", true);
  sub->add_option("--backend", o->backends,
                  "int8 backend(s), comma-separated to profile them side by side (e.g. ref,cpu); both = cpu,npu")
      ->capture_default_str();
  sub->add_option(
         "--mode", o->mode,
         "propagated: the int8 model on its own input; local: each layer fed the quantized "
         "fp32 input (its own error); both")
      ->capture_default_str()
      ->check(CLI::IsMember({"propagated", "local", "both"}));
  sub->add_option("--threads", o->threads, "Threads per kernel (cpu backend)")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  sub->add_option("--accumulator-bits", o->accumulator_bits,
                  "Narrow accumulator width to count overflows against")
      ->capture_default_str()
      ->check(CLI::Range(8, 32));
  sub->add_flag("--no-overflow", o->no_overflow,
                "Skip the pair-saturation / accumulator counts (a scalar pass per conv)");
  sub->add_option("--timing-runs", o->timing_runs,
                  "Samples that also get a timed run per model (median per layer)")
      ->capture_default_str();
  sub->add_option("--json", o->json, "Write the whole profile as JSON");
  sub->add_option("--csv", o->csv, "Write one row per layer and backend as CSV");
  sub->add_option("--html", o->html,
                  "Write a self-contained HTML report (inline SVG, works offline)");
  sub->add_option("--task", o->task, "classification (top-1 against the labels) or regression (MAE, abs_rel, "
                                     "PSNR against the dataset's targets, per backend)")
      ->capture_default_str()->check(CLI::IsMember({"classification", "regression"}));
  add_sensitivity_flags(*sub, o->sensitivity);
  return [o]() {
    const bool regression = o->task == "regression";
    o->sensitivity.classification = !regression;
    const auto start = std::chrono::steady_clock::now();
    ProfileOptions options;
    options.backends = split_backends(o->backends);
    options.propagated = o->mode != "local";
    options.local = o->mode != "propagated";
    options.threads = o->threads;
    options.accumulator_bits = o->accumulator_bits;
    options.count_overflow = !o->no_overflow;
    options.timing_runs = o->timing_runs;
    const Model tested = load_model(o->model);
    const Model reference = load_model(o->ref);
    for (const auto& entry : reference.graph().initializers)
      if (entry.second.dtype() == DType::i8)
        throw Error("--ref '" + o->ref +
                    "' is a quantized model; give the fp32 model it was quantized from");
    const data::Dataset dataset = load_data(o->data);
    if (dataset.size() == 0) throw Error("dataset '" + dataset.name() + "' has no samples");
    const Graph& graph = tested.graph();
    const Shape& input_shape = graph.value_info(graph.inputs.at(0)).shape;
    if (static_cast<int64_t>(dataset.sample_elements()) != shape_elements(input_shape))
      throw Error("dataset '" + dataset.name() + "' gives samples of shape " +
                  shape_str(dataset.sample_shape()) + " but the model input '" + graph.inputs[0] +
                  "' is " + shape_str(input_shape));

    ModelProfiler profiler(reference, tested, options);
    Tensor input(DType::f32, input_shape);
    // Regression: each side's output against the dataset's targets, streamed sample by sample.
    std::vector<RegressionMetrics> metrics(regression ? 1 + options.backends.size() : 0);
    std::vector<float> target(regression ? dataset.target_elements() : 0);
    if (regression) check_regression_data(dataset, graph);
    size_t sample = 0;
    const ModelProfiler::OutputScorer scorer = [&](size_t side, const Tensor& output) {
      metrics[side].add(sample, ErrorSums::of(output.data<float>(), target.data(), target.size()));
    };
    Progress progress("profile " + o->model, dataset.size());
    for (sample = 0; sample < dataset.size(); ++sample) {
      dataset.sample(sample, input.mutable_data<float>());
      if (regression) {
        dataset.target(sample, target.data());
        profiler.run(input, -1, scorer);
      } else {
        profiler.run(input, dataset.has_labels() ? dataset.label(sample) : -1);
      }
      progress.update(sample + 1);
    }
    progress.finish();
    const ProfileReport report = profiler.report();
    ProfileRunInfo info{
        o->model, o->ref, o->data.spec,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()};
    nlohmann::json profile = profile_json(report, info);
    profile["task"] = o->task;
    if (regression) {
      profile["fp32"]["regression"] = metrics_json(metrics[0]);
      for (size_t b = 0; b < options.backends.size(); ++b)
        profile["backends"][b]["regression"] = metrics_json(metrics[1 + b]);
    }
    if (o->sensitivity.enabled)
      profile["sensitivity"] = run_sensitivity(reference, tested, dataset, o->sensitivity,
                                               options.backends.front(), o->threads);
    profile["files"] = {{"model_bytes", file_bytes(o->model)}, {"ref_bytes", file_bytes(o->ref)}};
    profile["memory"]["peak_rss_bytes"] = peak_rss_bytes();
    profile["suggestions"] = profile_suggestions(profile);
    if (!o->json.empty()) write_text("profile JSON", o->json, profile.dump(1) + "\n");
    if (!o->csv.empty()) write_text("profile CSV", o->csv, profile_csv(profile));
    if (!o->html.empty()) write_text("profile HTML", o->html, profile_html(profile));
    print_summary(profile);
    if (profile.contains("sensitivity")) print_sensitivity(profile["sensitivity"]);
    return 0;
  };
}

}  // namespace octet::cli
