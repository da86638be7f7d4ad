#include "tools/octet/auto_fallback.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <tuple>

#include "engine/sensitivity.hpp"
#include "engine/session.hpp"
#include "graph/error.hpp"
#include "quant/fallback_edits.hpp"
#include "tools/octet/evaluate.hpp"
#include "tools/octet/evaluate_regression.hpp"
#include "tools/octet/quantize_options.hpp"

namespace octet::cli {
namespace {

// How much worse than fp32 a model does on the evaluation data.
class LossMeter {
 public:
  LossMeter(const Model& fp32, const data::Dataset& data, const AutoFallbackFlags& flags)
      : data_(data), flags_(flags), regression_(flags.task == "regression") {
    fp32_ = metric(fp32, "fp32");
    if (regression_ && !(fp32_ > 0.0))
      throw Error("--auto-fallback: the fp32 model's abs_rel on '" + data.name() + "' is " +
                  std::to_string(fp32_) + ", a relative increase is undefined");
  }
  double fp32() const { return fp32_; }
  double metric(const Model& model, const std::string& label) const {
    SessionOptions options{flags_.backend, 1, {}, false};
    if (regression_)
      return evaluate_regression(compile(model, options), nullptr, data_, flags_.threads, label)
          .vs_target.abs_rel();
    return evaluate_classifier(compile(model, options), data_, flags_.threads, label).top1;
  }
  // Top-1 points lost, or the relative abs_rel increase.
  double loss(double int8_metric) const {
    return regression_ ? (int8_metric - fp32_) / fp32_ : (fp32_ - int8_metric) * 100.0;
  }
  const char* unit() const { return regression_ ? "relative abs_rel increase" : "top-1 points"; }

 private:
  const data::Dataset& data_;
  const AutoFallbackFlags& flags_;
  bool regression_;
  double fp32_ = 0.0;
};

std::string join(const std::vector<std::string>& names) {
  std::string text;
  for (const auto& name : names) text += (text.empty() ? "" : ",") + name;
  return text.empty() ? "(none)" : text;
}

}  // namespace

nlohmann::json AutoFallbackResult::to_json(double budget) const {
  return {{"budget", budget},
          {"unit", unit},
          {"kept_fp32", kept},
          {"fp32_metric", fp32_metric},
          {"int8_metric", int8_metric},
          {"base_loss", base_loss},
          {"loss", loss},
          {"reached", reached},
          {"steps", steps}};
}

std::string AutoFallbackResult::summary(double budget) const {
  char numbers[160];
  std::snprintf(numbers, sizeof numbers, "loss %.4g %s (int8 alone %.4g, budget %.4g)", loss,
                unit.c_str(), base_loss, budget);
  return std::string(reached ? "budget met" : "budget NOT met") +
         "; fp32 layers kept: " + (kept.empty() ? std::string("none") : join(kept)) + "; " +
         numbers;
}

void add_auto_fallback_flags(CLI::App& app, AutoFallbackFlags& f) {
  app.add_option("--auto-fallback", f.budget,
                 "Keep the fewest layers in fp32 that bring the loss under BUDGET: top-1 "
                 "points (classification) or relative abs_rel increase (regression)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--fallback-data", f.data.spec,
                 "Evaluation data for --auto-fallback (default: --calib; prefer held-out data)");
  app.add_option("--fallback-labels", f.data.labels, "Labels .npy for --fallback-data x.npy");
  app.add_option("--fallback-targets", f.data.targets,
                 "Regression targets .npy for --fallback-data x.npy");
  app.add_option("--fallback-count", f.count, "Evaluation samples for --auto-fallback")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--task", f.task,
                 "What --auto-fallback measures: classification (top-1) or regression (abs_rel)")
      ->capture_default_str()
      ->check(CLI::IsMember({"classification", "regression"}));
  app.add_option("--fallback-backend", f.backend, "Backend the --auto-fallback evaluations run on")
      ->capture_default_str()
      ->check(CLI::IsMember(available_backends()));
}

Model quantize_with_auto_fallback(const Model& model, quant::QuantizeOptions options,
                                  const data::Dataset* calib, size_t calib_count,
                                  const DataOptions& calib_data, const AutoFallbackFlags& flags,
                                  QuantizationSummary& summary, AutoFallbackResult& result) {
  if (options.mode != quant::QuantizationMode::static_int8)
    throw Error("--auto-fallback needs static quantization");
  DataOptions data_options = flags.data;
  if (data_options.spec.empty()) {
    data_options = calib_data;
    data_options.targets = flags.data.targets;
  } else {
    data_options.mean = calib_data.mean;  // the same normalization as calibration
    data_options.std = calib_data.std;
  }
  data_options.limit = flags.count;
  const data::Dataset data = load_data(data_options);
  const LossMeter meter(model, data, flags);
  result.fp32_metric = meter.fp32();
  result.unit = meter.unit();

  // Losses are differences of sums over samples: 0.5 points can come out as 0.50000000000000044.
  auto within_budget = [&](double loss) { return loss <= flags.budget + 1e-9; };
  // `what` says what changed, for the progress line: "int8", "+ layer", "- layer", "re-quantized".
  auto measure = [&](const Model& candidate, const std::vector<std::string>& kept,
                     const std::string& what) {
    const double metric = meter.metric(candidate, "evaluate");
    const double loss = meter.loss(metric);
    result.steps.push_back(
        {{"step", what}, {"kept_fp32", kept}, {"metric", metric}, {"loss", loss}});
    std::fprintf(stderr, "auto-fallback: %-50s %zu fp32 layer(s), loss %.4g %s (budget %.4g)\n",
                 what.c_str(), kept.size(), loss, meter.unit(), flags.budget);
    return std::pair<double, double>{metric, loss};
  };

  Model base = quantize_with_dataset(model, options, calib, calib_count, summary);
  double metric = 0.0, loss = 0.0;
  std::tie(metric, loss) = measure(base, {}, "int8");
  result.base_loss = result.loss = loss;
  result.int8_metric = metric;
  result.reached = within_budget(loss);
  if (result.reached) return base;

  // The search edits the int8 graph (quant::keep_node_float) instead of re-quantizing: keeping
  // layers in fp32 changes neither the fp32 model nor what calibration sees, so the edit is the
  // model --keep-float would give, without a calibration per step. The result is re-quantized
  // through the normal path and measured again at the end.
  SensitivitySamples samples;
  samples.count = std::min<size_t>(data.size(), 200);
  samples.fill = [&data](size_t i, Tensor& input) { data.sample(i, input.mutable_data<float>()); };
  SensitivityOptions sensitivity;
  sensitivity.backend = flags.backend;
  const SensitivityReport ranking = analyze_sensitivity(model, base, samples, sensitivity);
  auto with_float = [&](const std::vector<std::string>& layers) {
    Graph graph = base.graph();
    for (const auto& layer : layers) graph = quant::keep_node_float(graph, model.graph(), layer);
    return Model::from_graph(std::move(graph), false);
  };

  // Greedy, most sensitive first, until the budget is met ...
  std::vector<std::string> kept;
  double current = loss;
  for (const LayerSensitivity& layer : ranking.ranking) {
    kept.push_back(layer.layer);
    std::tie(metric, current) = measure(with_float(kept), kept, "+ " + layer.layer);
    if (within_budget(current)) break;
  }
  // ... then the fewest: drop each kept layer the budget allows without, least sensitive first.
  // (Without reaching the budget, everything stays in fp32 but the few int8-only ops.)
  if (within_budget(current))
    for (size_t i = kept.size(); i-- > 0 && kept.size() > 1;) {
      std::vector<std::string> fewer = kept;
      fewer.erase(fewer.begin() + static_cast<std::ptrdiff_t>(i));
      std::tie(metric, loss) = measure(with_float(fewer), fewer, "- " + kept[i]);
      if (within_budget(loss)) kept = fewer, current = loss;
    }

  quant::QuantizeOptions final_options = options;
  final_options.keep_float.insert(final_options.keep_float.end(), kept.begin(), kept.end());
  QuantizationSummary final_summary;
  Model chosen = quantize_with_dataset(model, final_options, calib, calib_count, final_summary);
  std::tie(metric, loss) = measure(chosen, kept, "re-quantized with --keep-float");
  if (loss > result.loss) return base;  // the search found nothing that helps through the real path
  summary = final_summary;
  result.kept = kept;
  result.loss = loss;
  result.int8_metric = metric;
  result.reached = within_budget(loss);
  return chosen;
}

}  // namespace octet::cli
