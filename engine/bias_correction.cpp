#include "engine/bias_correction.hpp"

#include <cmath>
#include <map>

#include "graph/error.hpp"
#include "quant/bias_correction.hpp"
#include "quant/layer_input_mean_hook.hpp"
#include "quant/quantize_pass.hpp"

namespace octet {
namespace {

// An int8 layer and the value its float twin writes in the fp32 graph.
struct LayerPair {
  size_t int8_node;
  std::string float_output;
};

std::vector<LayerPair> paired_layers(const Graph& fp32, const Graph& quantized) {
  std::vector<LayerPair> layers;
  for (size_t i = 0; i < quantized.nodes.size(); ++i) {
    const Node& node = quantized.nodes[i];
    if (node.op != "QConv" && node.op != "QGemm") continue;
    const std::string float_output = quant::float_value_name(node.outputs[0]);
    const int twin = fp32.producer(float_output);
    const std::string float_op = node.op == "QConv" ? "Conv" : "Gemm";
    if (twin < 0 || fp32.nodes[static_cast<size_t>(twin)].op != float_op)
      throw Error(node.label() + ": the fp32 model has no " + float_op + " writing '" + float_output +
                  "' (bias correction needs the graph that was quantized)");
    layers.push_back({i, float_output});
  }
  return layers;
}

void check_samples(const CalibrationSource& samples, const Model& model) {
  if (samples.count == 0 || !samples.fill) throw Error("bias correction needs samples (at least one)");
  if (model.graph().inputs.size() != 1) throw Error("bias correction supports models with one input");
}

// Runs every sample through `model` with `hook` attached.
void run_samples(const Model& model, const SessionOptions& options, quant::LayerInputMeanHook& hook,
                 const CalibrationSource& samples, const std::function<void()>& after_each) {
  Session session(model, options);
  session.add_hook(&hook);
  Tensor input(session.input_info(0).dtype, session.input_info(0).shape);
  for (size_t i = 0; i < samples.count; ++i) {
    samples.fill(i, input);
    session.run({input});
    if (after_each) after_each();
  }
}

// Mean pre-activation output per channel of every float twin, from one fp32 pass.
std::map<std::string, std::vector<double>> float_means(const Model& fp32, const std::vector<LayerPair>& layers,
                                                       const CalibrationSource& samples, const SessionOptions& options,
                                                       const std::function<void()>& after_each) {
  std::vector<std::string> outputs;
  for (const LayerPair& layer : layers) outputs.push_back(layer.float_output);
  quant::LayerInputMeanHook hook(fp32.graph(), outputs);
  run_samples(fp32, options, hook, samples, after_each);
  std::map<std::string, std::vector<double>> means;
  for (const std::string& output : outputs) {
    const Node& node = fp32.graph().nodes[static_cast<size_t>(fp32.graph().producer(output))];
    means[output] = quant::mean_preactivation(fp32.graph(), node, hook.mean(output));
  }
  return means;
}

LayerBiasError layer_error(const Graph& quantized, const Node& node, const Tensor& mean_input,
                           const std::vector<double>& float_mean) {
  LayerBiasError error{node.label(), quant::mean_preactivation(quantized, node, mean_input)};
  if (error.mean_error.size() != float_mean.size())
    throw Error(node.label() + ": " + std::to_string(error.mean_error.size()) + " output channels, its float twin has " +
                std::to_string(float_mean.size()));
  for (size_t c = 0; c < float_mean.size(); ++c) error.mean_error[c] -= float_mean[c];
  return error;
}

}  // namespace

double LayerBiasError::mean_abs() const {
  if (mean_error.empty()) return 0.0;
  double sum = 0.0;
  for (double e : mean_error) sum += std::fabs(e);
  return sum / static_cast<double>(mean_error.size());
}

std::vector<LayerBiasError> measure_bias_error(const Model& fp32, const Model& quantized, const CalibrationSource& samples,
                                               const SessionOptions& session) {
  check_samples(samples, fp32);
  const std::vector<LayerPair> layers = paired_layers(fp32.graph(), quantized.graph());
  const auto expected = float_means(fp32, layers, samples, session, {});
  std::vector<std::string> outputs;
  for (const LayerPair& layer : layers) outputs.push_back(quantized.graph().nodes[layer.int8_node].outputs[0]);
  quant::LayerInputMeanHook hook(quantized.graph(), outputs);
  run_samples(quantized, session, hook, samples, {});
  std::vector<LayerBiasError> errors;
  for (const LayerPair& layer : layers) {
    const Node& node = quantized.graph().nodes[layer.int8_node];
    errors.push_back(layer_error(quantized.graph(), node, hook.mean(node.outputs[0]), expected.at(layer.float_output)));
  }
  return errors;
}

Model correct_bias(const Model& fp32, const Model& quantized, const CalibrationSource& samples,
                   const std::function<void(size_t, size_t)>& progress, BiasCorrectionReport* report,
                   const SessionOptions& session) {
  BiasCorrectionReport local;
  BiasCorrectionReport& r = report ? *report : local;
  check_samples(samples, fp32);
  const std::vector<LayerPair> layers = paired_layers(fp32.graph(), quantized.graph());
  const size_t total = samples.count * (layers.size() + 1);
  size_t done = 0;
  auto step = [&] {
    ++done;
    if (progress) progress(done, total);
  };
  const auto expected = float_means(fp32, layers, samples, session, step);
  Graph graph = quantized.graph();
  for (const LayerPair& layer : layers) {
    // The int8 model as corrected so far: this layer's input carries the earlier corrections.
    const Model current = Model::from_graph(graph, false);
    const std::string output = graph.nodes[layer.int8_node].outputs[0];
    quant::LayerInputMeanHook hook(current.graph(), {output});
    run_samples(current, session, hook, samples, step);
    Node& node = graph.nodes[layer.int8_node];
    LayerBiasError error = layer_error(graph, node, hook.mean(output), expected.at(layer.float_output));
    r.saturated_bias_values += quant::subtract_from_int32_bias(graph, node, error.mean_error);
    r.before.push_back(std::move(error));
  }
  r.samples = samples.count;
  graph.metadata["octet.quantization.bias_correction"] = "empirical";
  graph.metadata["octet.quantization.bias_correction_samples"] = std::to_string(samples.count);
  return Model::from_graph(std::move(graph), false);
}

}  // namespace octet
