#include "engine/profile.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <map>

#include "graph/error.hpp"
#include "kernels/isa.hpp"
#include "quant/layer_timer.hpp"
#include "quant/local_input_swap.hpp"
#include "quant/overflow_profiler.hpp"
#include "quant/stat_profiler.hpp"
#include "quant/value_twins.hpp"

namespace octet {

size_t peak_rss_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<size_t>(usage.ru_maxrss) * 1024;  // Linux reports kilobytes
}

// One model compiled for one backend, with its session, its output buffers and its clocks.
struct ModelProfiler::Side {
  std::string name;
  std::shared_ptr<const CompiledPlan> plan;
  Session session;
  std::vector<Tensor> outputs;
  std::vector<TensorView> output_views;
  quant::LayerTimer timer;
  quant::DurationHistogram latency;
  size_t labelled = 0, correct = 0;

  Side(std::string side_name, const Model& model, const SessionOptions& options)
      : name(std::move(side_name)),
        plan(compile(model, options)),
        session(plan),
        timer(model.graph()) {
    for (size_t i = 0; i < plan->output_slots().size(); ++i)
      outputs.emplace_back(session.output_info(i).dtype, session.output_info(i).shape);
    for (const Tensor& output : outputs) output_views.push_back(output.view());
  }
  void run(const Tensor& input) { session.run({input.view()}, output_views); }
};

struct ModelProfiler::Backend : ModelProfiler::Side {
  std::unique_ptr<quant::StatProfiler> propagated, local;
  std::unique_ptr<quant::LocalInputSwap> swap;
  std::unique_ptr<quant::OverflowProfiler> overflow;
  std::unique_ptr<quant::CodeHistogramProfiler> codes;
  using Side::Side;
};

namespace {

// The int8 model must be a quantized version of the reference: same interface, and every int8
// twin "v.q" standing for a reference value "v" of the same size.
void check_models_match(const Graph& reference, const Graph& tested) {
  const std::string prefix = "the int8 model does not match the fp32 reference: ";
  if (tested.inputs.size() != 1 || reference.inputs.size() != 1)
    throw Error("profile supports models with one input (the int8 model has " +
                std::to_string(tested.inputs.size()) + ", the reference " +
                std::to_string(reference.inputs.size()) + ")");
  if (tested.inputs != reference.inputs)
    throw Error(prefix + "input '" + tested.inputs[0] + "' vs '" + reference.inputs[0] + "'");
  const Shape& a = tested.value_info(tested.inputs[0]).shape;
  const Shape& b = reference.value_info(reference.inputs[0]).shape;
  if (a != b)
    throw Error(prefix + "input '" + tested.inputs[0] + "' is " + shape_str(a) + " vs " +
                shape_str(b));
  if (tested.outputs != reference.outputs)
    throw Error(prefix + "outputs differ ('" + (tested.outputs.empty() ? "" : tested.outputs[0]) +
                "' vs '" + (reference.outputs.empty() ? "" : reference.outputs[0]) + "')");
  size_t twins = 0;
  for (const auto& [name, info] : tested.values) {
    if (tested.is_initializer(name)) continue;
    const std::string ref = quant::reference_name(name);
    auto it = reference.values.find(ref);
    const bool is_twin = ref != name;
    if (it == reference.values.end() || reference.is_initializer(ref)) {
      if (is_twin)
        throw Error(prefix + "int8 value '" + name + "' has no fp32 value '" + ref +
                    "' in the reference");
      continue;
    }
    if (shape_elements(it->second.shape) != shape_elements(info.shape))
      throw Error(prefix + "value '" + name + "' is " + shape_str(info.shape) +
                  ", the reference's '" + ref + "' is " + shape_str(it->second.shape));
    twins += is_twin;
  }
  if (twins == 0)
    throw Error(prefix +
                "it has no int8 activation (\"v.q\") to compare; is it quantized (static mode)?");
}

size_t parameter_bytes(const Graph& graph) {
  size_t bytes = 0;
  for (const auto& entry : graph.initializers) bytes += entry.second.bytes();
  return bytes;
}

std::string isa_of(const std::string& backend) {
  if (backend == "ref") return "scalar";
  if (backend == "cpu") return kernels::isa_name(kernels::active_isa());
  return "";
}

double ms(double seconds) {
  return seconds * 1e3;
}

}  // namespace

ModelProfiler::ModelProfiler(const Model& reference, const Model& tested, ProfileOptions options)
    : reference_(reference), tested_(tested), options_(std::move(options)) {
  check_models_match(reference_.graph(), tested_.graph());
  if (options_.backends.empty()) throw Error("profile needs at least one backend");
  for (size_t i = 0; i < options_.backends.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (options_.backends[i] == options_.backends[j])
        throw Error("backend '" + options_.backends[i] + "' given twice");
  if (!options_.propagated && !options_.local)
    throw Error("profile needs the propagated or the local mode (or both)");
  const Graph& tested_graph = tested_.graph();
  activations_ = std::make_unique<quant::ReferenceActivations>(reference_.graph(), tested_graph);
  histograms_ = std::make_unique<quant::TensorHistogramProfiler>(reference_.graph(), tested_graph,
                                                                 options_.histogram_bins);
  SessionOptions ref_options;
  ref_options.backend = "ref";
  fp32_ = std::make_unique<Side>("fp32", reference_, ref_options);
  for (const auto& name : options_.backends) {
    SessionOptions side_options;
    side_options.backend = name;
    side_options.threads = options_.threads;
    side_options.convert_per_tensor = name == "npu";  // the NPU takes per-tensor weights only
    auto backend = std::make_unique<Backend>(name, tested_, side_options);
    if (options_.propagated) {
      backend->propagated = std::make_unique<quant::StatProfiler>(tested_graph, *activations_);
      backend->codes = std::make_unique<quant::CodeHistogramProfiler>(tested_graph);
      if (options_.count_overflow)
        backend->overflow =
            std::make_unique<quant::OverflowProfiler>(tested_graph, options_.accumulator_bits);
    }
    if (options_.local) {
      backend->local = std::make_unique<quant::StatProfiler>(tested_graph, *activations_);
      backend->swap = std::make_unique<quant::LocalInputSwap>(tested_graph, *activations_);
    }
    backends_.push_back(std::move(backend));
  }
}

ModelProfiler::~ModelProfiler() = default;

void ModelProfiler::time_run(Side& side, const Tensor& input) {
  side.session.add_hook(&side.timer);
  const auto start = std::chrono::steady_clock::now();
  side.run(input);
  side.latency.add(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  side.session.remove_hook(&side.timer);
}

void ModelProfiler::score(Side& side, int64_t label) {
  if (label < 0 || side.outputs.empty() || side.outputs[0].dtype() != DType::f32) return;
  const Tensor& output = side.outputs[0];
  const float* logits = output.data<float>();
  const int64_t predicted = std::max_element(logits, logits + output.elements()) - logits;
  ++side.labelled;
  side.correct += predicted == label;
}

void ModelProfiler::run(const Tensor& input, int64_t label, const OutputScorer& scorer) {
  const bool timed = samples_ < options_.timing_runs;
  fp32_->session.add_hook(activations_.get());
  fp32_->session.add_hook(histograms_.get());
  fp32_->run(input);
  fp32_->session.remove_hook(histograms_.get());
  fp32_->session.remove_hook(activations_.get());
  score(*fp32_, label);
  if (scorer && !fp32_->outputs.empty()) scorer(0, fp32_->outputs[0]);
  if (timed) time_run(*fp32_, input);
  size_t side = 0;

  for (auto& backend : backends_) {
    Session& session = backend->session;
    if (backend->local) {
      session.add_hook(backend->swap.get());
      session.add_hook(backend->local.get());
      backend->run(input);
      session.remove_hook(backend->local.get());
      session.remove_hook(backend->swap.get());
    }
    if (backend->propagated) {
      // Last, so that the outputs scored below are the model's own.
      for (ExecutionHook* hook : std::initializer_list<ExecutionHook*>{
               backend->overflow.get(), backend->propagated.get(), backend->codes.get()})
        session.add_hook(hook);
      backend->run(input);
      for (ExecutionHook* hook : std::initializer_list<ExecutionHook*>{
               backend->overflow.get(), backend->propagated.get(), backend->codes.get()})
        session.remove_hook(hook);
    } else {
      backend->run(input);
    }
    score(*backend, label);
    ++side;
    if (scorer && !backend->outputs.empty()) scorer(side, backend->outputs[0]);
    if (timed) time_run(*backend, input);
  }
  ++samples_;
}

const LayerReport* ProfileReport::find_layer(const std::string& node) const {
  for (const auto& layer : layers)
    if (layer.node == node) return &layer;
  return nullptr;
}

size_t ProfileReport::backend_index(const std::string& name) const {
  for (size_t i = 0; i < backends.size(); ++i)
    if (backends[i].name == name) return i;
  throw Error("the profile has no backend '" + name + "'");
}

ProfileReport ModelProfiler::report() const {
  const Graph& graph = tested_.graph();
  ProfileReport report;
  report.samples = samples_;
  report.propagated = options_.propagated;
  report.local = options_.local;
  report.accumulator_bits = options_.accumulator_bits;
  report.output = graph.outputs.empty() ? "" : graph.outputs[0];
  report.reference_bytes = activations_->bytes();
  report.metadata = graph.metadata;

  auto summarize = [&](const Side& side, const Model& model) {
    RunSummary summary;
    summary.name = side.name;
    summary.isa = isa_of(side.name == "fp32" ? "ref" : side.name);
    summary.partition = side.plan->partition_summary();
    summary.arena_bytes = side.plan->arena_bytes();
    summary.parameter_bytes = parameter_bytes(model.graph());
    summary.latency_median_ms = ms(side.latency.median_seconds());
    summary.latency_min_ms = ms(side.latency.min_seconds());
    summary.timed_runs = side.latency.count();
    summary.labelled = side.labelled;
    summary.correct_top1 = side.correct;
    for (const auto& node : side.timer.nodes()) {
      if (node.op == "QuantizeLinear") summary.quantize_ms += ms(node.durations.median_seconds());
      if (node.op == "DequantizeLinear")
        summary.dequantize_ms += ms(node.durations.median_seconds());
    }
    return summary;
  };
  report.fp32 = summarize(*fp32_, reference_);
  for (const auto& backend : backends_) {
    RunSummary summary = summarize(*backend, tested_);
    if (backend->propagated)
      for (const auto& layer : backend->propagated->layers())
        if (layer.value == report.output) summary.output_error = layer.error;
    report.backends.push_back(std::move(summary));
  }

  // Per node, per backend: index the hooks' results by node index once.
  std::vector<std::map<size_t, const quant::LayerError*>> propagated(backends_.size()),
      local(backends_.size());
  std::vector<std::map<size_t, const quant::OverflowCounts*>> overflow(backends_.size());
  for (size_t b = 0; b < backends_.size(); ++b) {
    const Backend& backend = *backends_[b];
    if (backend.propagated)
      for (const auto& layer : backend.propagated->layers())
        propagated[b].emplace(layer.node_index, &layer);
    if (backend.local)
      for (const auto& layer : backend.local->layers()) local[b].emplace(layer.node_index, &layer);
    if (backend.overflow)
      for (const auto& layer : backend.overflow->layers())
        overflow[b].emplace(layer.node_index, &layer.counts);
  }
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const Node& node = graph.nodes[n];
    LayerReport layer;
    layer.node_index = n;
    layer.node = node.name;
    layer.op = node.op;
    layer.value = node.outputs.empty() ? "" : node.outputs[0];
    const std::string reference = quant::reference_name(layer.value);
    if (activations_->index_of(reference) >= 0) layer.reference = reference;
    layer.int8 = !layer.value.empty() && graph.value_info(layer.value).dtype == DType::i8;
    auto q = graph.quant.find(layer.value);
    if (q != graph.quant.end() && q->second.scales.size() == 1)
      layer.params = {q->second.scales[0], q->second.zero_points[0]};
    layer.macs = node_macs(graph, node);
    for (const auto& input : node.inputs) {
      if (input.empty()) continue;
      const size_t bytes = static_cast<size_t>(shape_elements(graph.value_info(input).shape)) *
                           dtype_size(graph.value_info(input).dtype);
      (graph.is_initializer(input) ? layer.weight_bytes : layer.activation_bytes) += bytes;
    }
    for (const auto& output : node.outputs)
      if (!output.empty())
        layer.activation_bytes +=
            static_cast<size_t>(shape_elements(graph.value_info(output).shape)) *
            dtype_size(graph.value_info(output).dtype);
    for (size_t b = 0; b < backends_.size(); ++b) {
      const Backend& backend = *backends_[b];
      LayerBackendReport entry;
      entry.ran_on = backend.plan->steps()[n].backend;
      if (auto it = propagated[b].find(n); it != propagated[b].end())
        entry.propagated = it->second->error;
      if (auto it = local[b].find(n); it != local[b].end()) entry.local = it->second->error;
      if (auto it = overflow[b].find(n); it != overflow[b].end()) entry.overflow = *it->second;
      const quant::DurationHistogram& time = backend.timer.nodes()[n].durations;
      entry.median_ms = ms(time.median_seconds());
      entry.min_ms = ms(time.min_seconds());
      entry.timed_runs = time.count();
      if (entry.median_ms > 0.0 && layer.macs > 0)
        entry.gops = 2.0 * static_cast<double>(layer.macs) / (entry.median_ms * 1e-3) / 1e9;
      layer.backends.push_back(std::move(entry));
    }
    report.layers.push_back(std::move(layer));
  }

  for (const auto& histogram : histograms_->tensors()) {
    TensorReport tensor(histogram);
    for (const auto& backend : backends_) {
      const quant::CodeHistogram* codes =
          backend->codes ? backend->codes->find(histogram.twin) : nullptr;
      tensor.codes.push_back(codes ? std::optional<quant::CodeHistogram>(*codes) : std::nullopt);
    }
    report.tensors.push_back(std::move(tensor));
  }

  for (auto& diagnostic : quant::qadd_diagnostics(reference_.graph(), graph)) {
    AddReport add{std::move(diagnostic), {}};
    for (const auto& backend : backends_) {
      std::string ran_on;
      for (const auto& step : backend->plan->steps())
        if (graph.nodes[step.node_index].name == add.diagnostic.node) ran_on = step.backend;
      add.ran_on.push_back(ran_on);
    }
    report.adds.push_back(std::move(add));
  }
  report.peak_rss_bytes = peak_rss_bytes();
  return report;
}

}  // namespace octet
