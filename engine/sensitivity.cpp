#include "engine/sensitivity.hpp"

#include <algorithm>
#include <map>
#include <memory>

#include "engine/session.hpp"
#include "graph/error.hpp"
#include "quant/calibration_hook.hpp"
#include "quant/error_stats.hpp"
#include "quant/fallback_edits.hpp"
#include "quant/stat_profiler.hpp"
#include "quant/value_twins.hpp"

namespace octet {
namespace {

bool is_sensitivity_layer(const std::string& op) {
  return op == "QConv" || op == "QGemm" || op == "QAdd";
}

// The fp32 outputs of the evaluation samples, computed once: every trial is scored against them.
class Evaluator {
 public:
  Evaluator(const Model& reference, const SensitivitySamples& samples,
            const SensitivityOptions& options)
      : samples_(samples), options_(options) {
    Session session(reference);
    if (session.plan().output_slots().empty() || session.output_info(0).dtype != DType::f32)
      throw Error("sensitivity needs a model whose first output is f32");
    Tensor input(session.input_info(0).dtype, session.input_info(0).shape);
    size_t correct = 0;
    for (size_t i = 0; i < samples.count; ++i) {
      samples.fill(i, input);
      const Tensor output = session.run({input})[0];
      outputs_.emplace_back(output.data<float>(), output.data<float>() + output.elements());
      correct +=
          labelled() && argmax(outputs_.back().data(), outputs_.back().size()) == samples.label(i);
    }
    if (labelled()) fp32_top1_ = static_cast<double>(correct) / static_cast<double>(samples.count);
  }

  bool labelled() const { return static_cast<bool>(samples_.label); }
  std::optional<double> fp32_top1() const { return fp32_top1_; }

  // Output SQNR (dB) and top-1 of a candidate model.
  std::pair<double, std::optional<double>> score(const Model& model) const {
    SessionOptions session_options;
    session_options.backend = options_.backend;
    session_options.threads = options_.threads;
    session_options.convert_per_tensor = options_.backend == "npu";
    Session session(model, session_options);
    Tensor input(session.input_info(0).dtype, session.input_info(0).shape);
    quant::ErrorStats error;
    size_t correct = 0;
    for (size_t i = 0; i < samples_.count; ++i) {
      samples_.fill(i, input);
      const Tensor output = session.run({input})[0];
      quant::accumulate_float_error(output.data<float>(), outputs_[i].data(), output.elements(),
                                    error);
      correct += labelled() && argmax(output.data<float>(),
                                      static_cast<size_t>(output.elements())) == samples_.label(i);
    }
    std::optional<double> top1;
    if (labelled()) top1 = static_cast<double>(correct) / static_cast<double>(samples_.count);
    return {error.sqnr_db(), top1};
  }

 private:
  static int64_t argmax(const float* values, size_t count) {
    return std::max_element(values, values + count) - values;
  }
  const SensitivitySamples& samples_;
  const SensitivityOptions& options_;
  std::vector<std::vector<float>> outputs_;
  std::optional<double> fp32_top1_;
};

// Every observer's range of every fp32 value, from one pass over the calibration samples.
std::map<std::string, std::unique_ptr<quant::CalibrationHook>> observe(
    const Model& reference, const SensitivitySamples& samples,
    const std::vector<std::string>& kinds) {
  std::map<std::string, std::unique_ptr<quant::CalibrationHook>> hooks;
  if (kinds.empty()) return hooks;
  if (samples.calibration_count == 0 || !samples.fill_calibration)
    throw Error("observer trials need calibration samples");
  Session session(reference);
  for (const auto& kind : kinds) {
    hooks[kind] = std::make_unique<quant::CalibrationHook>(reference.graph(), kind);
    session.add_hook(hooks[kind].get());
  }
  Tensor input(session.input_info(0).dtype, session.input_info(0).shape);
  for (size_t i = 0; i < samples.calibration_count; ++i) {
    samples.fill_calibration(i, input);
    session.run({input});
  }
  return hooks;
}

}  // namespace

SensitivityReport analyze_sensitivity(const Model& reference, const Model& tested,
                                      const SensitivitySamples& samples,
                                      const SensitivityOptions& options,
                                      const std::function<void(size_t, size_t)>& progress) {
  if (samples.count == 0 || !samples.fill)
    throw Error("sensitivity analysis needs at least one sample");
  const Graph& graph = tested.graph();
  const Evaluator evaluator(reference, samples, options);
  const auto observers = observe(reference, samples, options.observers);

  std::vector<const Node*> layers;
  for (const Node& node : graph.nodes)
    if (is_sensitivity_layer(node.op)) layers.push_back(&node);
  const size_t total = 1 + layers.size() * ((options.keep_float ? 1 : 0) + options.observers.size()) +
                       options.model_trials.size();
  size_t done = 0;
  auto step = [&] {
    if (progress) progress(++done, total);
  };

  SensitivityReport report;
  report.samples = samples.count;
  report.fp32_top1 = evaluator.fp32_top1();
  const auto [base_sqnr, base_top1] = evaluator.score(tested);
  report.base_sqnr_db = base_sqnr;
  report.base_top1 = base_top1;
  step();

  auto trial = [&](const Node& layer, const std::string& fix, Graph edited) {
    const Model model = Model::from_graph(std::move(edited), false);
    const auto [sqnr, top1] = evaluator.score(model);
    SensitivityTrial t{layer.name, fix, sqnr, top1, sqnr - base_sqnr, std::nullopt};
    if (top1 && base_top1) t.recovered_top1 = *top1 - *base_top1;
    report.trials.push_back(t);
    step();
  };
  for (const Node* layer : layers) {
    if (options.keep_float)
      trial(*layer, "fp32", quant::keep_node_float(graph, reference.graph(), layer->name));
    for (const auto& kind : options.observers) {
      const std::string value = quant::reference_name(layer->outputs[0]);
      quant::RangeRequest request;
      request.symmetric = options.symmetric_activations;
      const quant::Range range = observers.at(kind)->range(value, request);
      trial(*layer, "observer:" + kind,
            quant::rerange_activation(graph, layer->outputs[0], range,
                                      options.symmetric_activations));
    }
  }

  for (const ModelTrial& alternative : options.model_trials) {
    const auto [sqnr, top1] = evaluator.score(alternative.build());
    SensitivityTrial t{"", alternative.name, sqnr, top1, sqnr - base_sqnr, std::nullopt};
    if (top1 && base_top1) t.recovered_top1 = *top1 - *base_top1;
    report.model_trials.push_back(t);
    step();
  }

  std::map<std::string, size_t> best_of;
  for (const SensitivityTrial& t : report.trials) {
    auto it = best_of.find(t.layer);
    if (it == best_of.end()) {
      best_of[t.layer] = report.ranking.size();
      std::string op;
      for (const Node* layer : layers)
        if (layer->name == t.layer) op = layer->op;
      report.ranking.push_back({t.layer, op, t});
    } else if (t.recovered_sqnr_db > report.ranking[it->second].best.recovered_sqnr_db) {
      report.ranking[it->second].best = t;
    }
  }
  std::stable_sort(report.ranking.begin(), report.ranking.end(),
                   [](const LayerSensitivity& a, const LayerSensitivity& b) {
                     return a.best.recovered_sqnr_db > b.best.recovered_sqnr_db;
                   });
  return report;
}

}  // namespace octet
