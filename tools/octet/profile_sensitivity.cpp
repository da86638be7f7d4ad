#include "tools/octet/profile_sensitivity.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <sstream>

#include "engine/data/dataset_spec.hpp"
#include "engine/quantize.hpp"
#include "engine/sensitivity.hpp"
#include "graph/error.hpp"
#include "quant/observer.hpp"
#include "tools/octet/number_text.hpp"
#include "tools/octet/progress.hpp"

namespace octet::cli {
namespace {

using nlohmann::json;

json number(double value) {
  return std::isfinite(value) ? json(value) : json();
}
json optional_number(const std::optional<double>& value) {
  return value ? number(*value) : json();
}

std::vector<std::string> observer_list(const std::string& text) {
  if (text == "none") return {};
  if (text == "all") return quant::observer_kinds();
  std::vector<std::string> kinds;
  std::stringstream stream(text);
  const auto known = quant::observer_kinds();
  for (std::string kind; std::getline(stream, kind, ',');) {
    if (kind.empty()) continue;
    if (std::find(known.begin(), known.end(), kind) == known.end())
      throw Error("--sensitivity-observers: unknown observer '" + kind + "'");
    kinds.push_back(kind);
  }
  return kinds;
}

json trial_json(const SensitivityTrial& t) {
  return {{"layer", t.layer},
          {"fix", t.fix},
          {"output_sqnr_db", number(t.output_sqnr_db)},
          {"recovered_sqnr_db", number(t.recovered_sqnr_db)},
          {"top1", optional_number(t.top1)},
          {"recovered_top1", optional_number(t.recovered_top1)}};
}

std::string metadata(const Graph& graph, const std::string& key) {
  const auto it = graph.metadata.find("octet.quantization." + key);
  return it == graph.metadata.end() ? "" : it->second;
}

// The settings `tested` was quantized with, as its metadata records them; nullopt for a model
// that is not static int8 from `octet quantize`. Layers it kept in float stay in float.
std::optional<quant::QuantizeOptions> recorded_options(const Graph& tested) {
  if (metadata(tested, "mode") != "static") return std::nullopt;
  quant::QuantizeOptions options;
  options.observer = metadata(tested, "observer");
  options.per_channel_weights = metadata(tested, "weights") == "per-channel";
  options.symmetric_activations = metadata(tested, "activations") == "symmetric";
  const std::string bits = metadata(tested, "weight_bits");
  options.weight_bits = bits == "7" ? 7 : 8;
  const std::string target = metadata(tested, "target");
  if (!target.empty()) options.target = target;
  options.cross_layer_equalization = metadata(tested, "cross_layer_equalization") == "on";
  options.bias_correction = metadata(tested, "bias_correction") == "empirical";
  if (options.observer.empty() || metadata(tested, "weights").empty()) return std::nullopt;
  for (const Node& node : tested.nodes)
    if (node.op == "Conv" || node.op == "Gemm" || node.op == "Add") options.keep_float.push_back(node.name);
  return options;
}

// The PTQ passes the tested model went without, each as a whole-model trial: the same fp32 model
// quantized with the same settings plus the pass, calibrated on the sensitivity's calibration
// samples.
std::vector<ModelTrial> pass_trials(const Model& reference, const Model& tested, const SensitivitySamples& samples) {
  const std::optional<quant::QuantizeOptions> base = recorded_options(tested.graph());
  if (!base) return {};
  const CalibrationSource calibration{samples.calibration_count, samples.fill_calibration};
  auto trial = [&](const std::string& name, bool cle, bool bias_correction) {
    quant::QuantizeOptions options = *base;
    options.cross_layer_equalization = options.cross_layer_equalization || cle;
    options.bias_correction = options.bias_correction || bias_correction;
    return ModelTrial{name, [&reference, options, calibration] { return quantize_model(reference, options, calibration); }};
  };
  std::vector<ModelTrial> trials;
  if (!base->cross_layer_equalization) trials.push_back(trial("cle", true, false));
  if (!base->bias_correction) trials.push_back(trial("bias-correction", false, true));
  if (!base->cross_layer_equalization && !base->bias_correction)
    trials.push_back(trial("cle+bias-correction", true, true));
  return trials;
}

}  // namespace

void add_sensitivity_flags(CLI::App& app, SensitivityFlags& f) {
  app.add_flag("--sensitivity", f.enabled,
               "Rank layers by what keeping each one in fp32 (or giving its output "
               "another observer's range) recovers");
  app.add_option("--sensitivity-samples", f.samples,
                 "Evaluation samples per sensitivity trial (the first N of --data)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--sensitivity-observers", f.observers,
                 "Observer trials per layer output: all, none, or a list")
      ->capture_default_str();
  app.add_option("--sensitivity-calib", f.calib,
                 "Calibration data for the observer trials (default: --data)");
  app.add_option("--sensitivity-calib-count", f.calib_count,
                 "Calibration samples for the observer trials")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
}

json run_sensitivity(const Model& reference, const Model& tested, const data::Dataset& data,
                     const SensitivityFlags& flags, const std::string& backend, int threads) {
  SensitivityOptions options;
  options.backend = backend;
  options.threads = threads;
  options.observers = observer_list(flags.observers);
  auto scheme = tested.graph().metadata.find("octet.quantization.activations");
  options.symmetric_activations =
      scheme != tested.graph().metadata.end() && scheme->second == "symmetric";

  data::Dataset calib_storage;
  const data::Dataset* calib = &data;
  if (!flags.calib.empty()) {
    calib_storage = data::load_dataset(flags.calib);
    if (calib_storage.sample_elements() != data.sample_elements())
      throw Error("--sensitivity-calib '" + flags.calib + "' gives samples of shape " +
                  shape_str(calib_storage.sample_shape()) + ", unlike --data's " +
                  shape_str(data.sample_shape()));
    calib = &calib_storage;
  }
  SensitivitySamples samples;
  samples.count = std::min(flags.samples, data.size());
  samples.fill = [&data](size_t i, Tensor& input) { data.sample(i, input.mutable_data<float>()); };
  if (flags.classification && data.has_labels()) samples.label = [&data](size_t i) { return data.label(i); };
  samples.calibration_count = std::min(flags.calib_count, calib->size());
  samples.fill_calibration = [calib](size_t i, Tensor& input) {
    calib->sample(i, input.mutable_data<float>());
  };

  options.model_trials = pass_trials(reference, tested, samples);

  std::unique_ptr<Progress> live;
  const SensitivityReport report =
      analyze_sensitivity(reference, tested, samples, options, [&](size_t done, size_t total) {
        if (!live)
          live = std::make_unique<Progress>("sensitivity (" + std::to_string(total) + " trials)",
                                            total);
        live->update(done);
      });
  if (live) live->finish();

  json j = {{"backend", backend},
            {"samples", report.samples},
            {"calibration", flags.calib.empty() ? data.name() : flags.calib},
            {"calibration_samples", samples.calibration_count},
            {"observers", options.observers},
            {"base_sqnr_db", number(report.base_sqnr_db)},
            {"base_top1", optional_number(report.base_top1)},
            {"fp32_top1", optional_number(report.fp32_top1)}};
  j["ranking"] = json::array();
  for (const LayerSensitivity& layer : report.ranking) {
    json entry = trial_json(layer.best);
    entry["op"] = layer.op;
    j["ranking"].push_back(entry);
  }
  j["trials"] = json::array();
  for (const SensitivityTrial& t : report.trials) j["trials"].push_back(trial_json(t));
  j["passes"] = json::array();
  for (const SensitivityTrial& t : report.model_trials) j["passes"].push_back(trial_json(t));
  return j;
}

void print_sensitivity(const json& s) {
  auto text = [](const json& value, NumberSpec format) {
    return value.is_null() ? std::string("-") : number_text(value.get<double>(), format);
  };
  // Without labels (a regression profile) the ranking is by SQNR alone: no top-1 columns.
  const bool labelled = !s["base_top1"].is_null();
  const std::string top1 = labelled ? ", top-1 " + text(s["base_top1"], NumberSpec{'f', 4, ""}) + " (fp32 " +
                                          text(s["fp32_top1"], NumberSpec{'f', 4, ""}) + ")"
                                    : std::string();
  std::printf("sensitivity on %s (%zu samples): int8 output SQNR %s dB%s\n", s["backend"].get<std::string>().c_str(),
              s["samples"].get<size_t>(), text(s["base_sqnr_db"], NumberSpec{'f', 1, ""}).c_str(), top1.c_str());
  size_t shown = 0;
  for (const json& entry : s["ranking"]) {
    if (shown++ == 8) break;
    const json& recovered = entry["recovered_top1"];
    const std::string points =
        labelled ? ", " + text(recovered.is_null() ? recovered : json(100.0 * recovered.get<double>()),
                               NumberSpec{'f', 1, "", true}) + " top-1 points"
                 : std::string();
    std::printf("  %2zu. %-8s %-40s %-22s recovers %s dB SQNR%s\n", shown, entry["op"].get<std::string>().c_str(),
                entry["layer"].get<std::string>().c_str(), entry["fix"].get<std::string>().c_str(),
                text(entry["recovered_sqnr_db"], NumberSpec{'f', 1, "", true}).c_str(), points.c_str());
  }
  if (s.contains("passes"))
    for (const json& pass : s["passes"]) {
      const json& recovered = pass["recovered_top1"];
      const std::string points =
          labelled ? ", " + text(recovered.is_null() ? recovered : json(100.0 * recovered.get<double>()),
                                 NumberSpec{'f', 1, "", true}) + " top-1 points"
                   : std::string();
      std::printf("  whole model: --%-20s recovers %s dB SQNR%s\n",
                  pass["fix"].get<std::string>() == "cle+bias-correction" ? std::string("cle --bias-correction").c_str()
                                                                          : pass["fix"].get<std::string>().c_str(),
                  text(pass["recovered_sqnr_db"], NumberSpec{'f', 1, "", true}).c_str(), points.c_str());
    }
}

}  // namespace octet::cli
