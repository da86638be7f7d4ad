#include "quant/cross_layer_equalization.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "graph/error.hpp"

namespace octet::quant {
namespace {

enum class Side { output, input };

const Tensor* float_initializer(const Graph& graph, const Node& node, size_t index) {
  if (!node.has_input(index)) return nullptr;
  const Tensor* tensor = graph.initializer(node.inputs[index]);
  return tensor && tensor->dtype() == DType::f32 ? tensor : nullptr;
}

// For each weight element of a Conv or Gemm, the channel it belongs to as seen from `side`: the
// output channel it produces, or the input channel it reads. `channels` receives the count.
std::vector<int64_t> weight_channels(const Node& node, const Shape& weight, Side side, int64_t& channels) {
  const int64_t elements = shape_elements(weight);
  std::vector<int64_t> channel(static_cast<size_t>(elements));
  if (node.op == "Gemm") {
    // transB = 1: B is [N, K]; transB = 0: B is [K, N]. Output channels are N, input channels K.
    const bool transposed = node.attrs.get_int("transB", 0) != 0;
    const int64_t rows = weight[0], cols = weight[1];
    const bool by_row = (side == Side::output) == transposed;
    channels = by_row ? rows : cols;
    for (int64_t e = 0; e < elements; ++e) channel[static_cast<size_t>(e)] = by_row ? e / cols : e % cols;
    return channel;
  }
  // Conv: OIHW-like [O, C/group, spatial...]. Input channel c of group g is read only by that
  // group's output channels, through their weight slice c - g * C/group.
  const int64_t out_channels = weight[0], group_inputs = weight[1];
  const int64_t groups = node.attrs.get_int("group", 1);
  const int64_t spatial = elements / (out_channels * group_inputs);
  const int64_t group_outputs = out_channels / groups;
  channels = side == Side::output ? out_channels : group_inputs * groups;
  for (int64_t e = 0; e < elements; ++e) {
    const int64_t o = e / (group_inputs * spatial);
    channel[static_cast<size_t>(e)] =
        side == Side::output ? o : (o / group_outputs) * group_inputs + (e / spatial) % group_inputs;
  }
  return channel;
}

std::vector<float> channel_absmax(const Node& node, const Tensor& weight, Side side) {
  int64_t channels = 0;
  const std::vector<int64_t> channel = weight_channels(node, weight.shape(), side, channels);
  std::vector<float> range(static_cast<size_t>(channels), 0.0f);
  const float* w = weight.data<float>();
  for (size_t e = 0; e < channel.size(); ++e) {
    float& r = range[static_cast<size_t>(channel[e])];
    r = std::max(r, std::fabs(w[e]));
  }
  return range;
}

bool is_linear_layer(const Node& node) { return node.op == "Conv" || node.op == "Gemm"; }

// act(y / s) = act(y) / s for every s > 0: no activation, or a clamp to [0 or -inf, +inf].
constexpr float kInfinity = std::numeric_limits<float>::infinity();

std::string format_bound(float value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

// A fused Clip(0, c) with finite c > 0: ReLU6 and its kin.
bool is_relu_n(const Node& node) {
  if (!node.attrs.has("activation")) return false;
  const float low = node.attrs.get_float("activation_min", 0.0f);
  const float high = node.attrs.get_float("activation_max", kInfinity);
  return low == 0.0f && std::isfinite(high) && high > 0.0f;
}

bool positively_homogeneous(const Node& node, bool accept_relu6, std::string& why) {
  if (!node.attrs.has("activation")) return true;
  if (accept_relu6 && is_relu_n(node)) return true;
  const float low = node.attrs.get_float("activation_min", 0.0f);
  const float high = node.attrs.get_float("activation_max", kInfinity);
  const bool ok = (low == 0.0f || low == -kInfinity) && high == kInfinity;
  if (!ok)
    why = "fused " + node.attrs.get_string("activation", "?") + " [" + std::to_string(low) + ", " +
          std::to_string(high) + "] is not positively homogeneous (a per-channel clip bound would be needed)";
  return ok;
}

// Why `node` cannot have its output channels rescaled ("" if it can).
std::string first_layer_problem(const Graph& graph, const Node& node, bool accept_relu6) {
  const Tensor* weight = float_initializer(graph, node, 1);
  if (!weight) return "weights are not a float constant";
  std::string why;
  if (!positively_homogeneous(node, accept_relu6, why)) return why;
  if (!node.has_input(2)) return "";
  const Tensor* bias = float_initializer(graph, node, 2);
  if (!bias) return "bias is not a float constant";
  int64_t channels = 0;
  weight_channels(node, weight->shape(), Side::output, channels);
  const Shape& b = bias->shape();
  if (bias->elements() != channels || (b.size() != 1 && !(b.size() == 2 && b[0] == 1)))
    return "bias is not one value per output channel";
  return "";
}

std::string second_layer_problem(const Graph& graph, const Node& node, const std::string& value) {
  if (!is_linear_layer(node)) return "read by " + node.label();
  if (node.inputs[0] != value) return "read by " + node.label() + " as a parameter";
  if (!float_initializer(graph, node, 1)) return "read by " + node.label() + " whose weights are not a float constant";
  if (node.op == "Gemm" && node.attrs.get_int("transA", 0) != 0) return "read by " + node.label() + " with transA=1";
  return "";
}

// Replaces input `index` of `node` (a weight or bias) by a fresh copy under a name of its own
// and returns it to modify. Copying every time matters: Graph copies share tensor storage, so
// writing in place would change every other copy of the graph (and any node sharing the
// initializer).
Tensor& fresh_initializer(Graph& graph, Node& node, size_t index, const char* suffix) {
  const std::string name = node.outputs[0] + suffix;
  Tensor copy = graph.initializer(node.inputs[index])->clone();
  graph.values[name] = ValueInfo{copy.dtype(), copy.shape()};
  graph.initializers[name] = std::move(copy);
  node.inputs[index] = name;
  return graph.initializers.at(name);
}

void scale_weights(Graph& graph, Node& node, Side side, const std::vector<float>& scales, bool divide) {
  Tensor& weight = fresh_initializer(graph, node, 1, ".equalized_weight");
  int64_t channels = 0;
  const std::vector<int64_t> channel = weight_channels(node, weight.shape(), side, channels);
  float* w = weight.mutable_data<float>();
  for (size_t e = 0; e < channel.size(); ++e) {
    const float s = scales[static_cast<size_t>(channel[e])];
    w[e] = divide ? w[e] / s : w[e] * s;
  }
}

}  // namespace

std::vector<ScalablePair> find_scalable_pairs(const Graph& graph, std::vector<std::string>* skipped,
                                              bool accept_relu6) {
  std::vector<ScalablePair> pairs;
  auto skip = [&](const Node& node, const std::string& why) {
    if (skipped) skipped->push_back(node.label() + " -> '" + node.outputs[0] + "': " + why);
  };
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node& first = graph.nodes[i];
    if (!is_linear_layer(first)) continue;
    const std::string& value = first.outputs[0];
    const std::vector<size_t> readers = graph.consumers(value);
    if (graph.is_graph_output(value)) { skip(first, "a graph output"); continue; }
    if (readers.size() != 1) { skip(first, "read by " + std::to_string(readers.size()) + " nodes"); continue; }
    const Node& second = graph.nodes[readers[0]];
    std::string why = second_layer_problem(graph, second, value);
    if (why.empty()) why = first_layer_problem(graph, first, accept_relu6);
    if (!why.empty()) { skip(first, why); continue; }
    int64_t produced = 0, read = 0;
    weight_channels(first, graph.initializer(first.inputs[1])->shape(), Side::output, produced);
    weight_channels(second, graph.initializer(second.inputs[1])->shape(), Side::input, read);
    if (produced != read) {
      skip(first, std::to_string(produced) + " channels produced, " + std::to_string(read) + " read");
      continue;
    }
    pairs.push_back({i, readers[0], value, produced});
  }
  return pairs;
}

std::vector<float> output_channel_ranges(const Graph& graph, const Node& node) {
  const Tensor* weight = float_initializer(graph, node, 1);
  if (!is_linear_layer(node) || !weight) throw Error(node.label() + ": no float Conv/Gemm weights to measure");
  return channel_absmax(node, *weight, Side::output);
}

std::vector<float> input_channel_ranges(const Graph& graph, const Node& node) {
  const Tensor* weight = float_initializer(graph, node, 1);
  if (!is_linear_layer(node) || !weight) throw Error(node.label() + ": no float Conv/Gemm weights to measure");
  return channel_absmax(node, *weight, Side::input);
}

void scale_pair_channels(Graph& graph, const ScalablePair& pair, const std::vector<float>& scales) {
  if (pair.first >= graph.nodes.size() || pair.second >= graph.nodes.size())
    throw Error("scale_pair_channels: node index out of range for value '" + pair.value + "'");
  if (static_cast<int64_t>(scales.size()) != pair.channels)
    throw Error("scale_pair_channels: " + std::to_string(scales.size()) + " scales for the " +
                std::to_string(pair.channels) + " channels of '" + pair.value + "'");
  for (size_t c = 0; c < scales.size(); ++c)
    if (!(scales[c] > 0.0f) || !std::isfinite(scales[c]))
      throw Error("scale_pair_channels: scale " + std::to_string(scales[c]) + " of channel " + std::to_string(c) +
                  " of '" + pair.value + "' is not finite and positive");
  Node& first = graph.nodes[pair.first];
  Node& second = graph.nodes[pair.second];
  scale_weights(graph, first, Side::output, scales, true);
  if (first.has_input(2)) {
    Tensor& bias = fresh_initializer(graph, first, 2, ".equalized_bias");
    float* b = bias.mutable_data<float>();
    for (size_t c = 0; c < scales.size(); ++c) b[c] /= scales[c];
  }
  scale_weights(graph, second, Side::input, scales, false);
  graph.remove_unused();
}

EqualizationReport equalize_cross_layer(Graph& graph, const EqualizationOptions& options) {
  EqualizationReport report;
  const std::vector<ScalablePair> pairs = find_scalable_pairs(graph, &report.skipped, options.relax_relu6);
  for (const ScalablePair& pair : pairs) {
    Node& first = graph.nodes[pair.first];
    if (!is_relu_n(first)) continue;
    report.relaxed.push_back(first.label() + ": " + first.attrs.get_string("activation", "Clip") + " [0, " +
                             format_bound(first.attrs.get_float("activation_max", kInfinity)) + "] -> Relu");
    first.attrs.set("activation", std::string("Relu"));
    first.attrs.set("activation_max", kInfinity);
  }
  for (const ScalablePair& pair : pairs)
    report.equalized.push_back(graph.nodes[pair.first].label() + " -> " + graph.nodes[pair.second].label() + " (" +
                               std::to_string(pair.channels) + " channels)");
  for (int iteration = 1; iteration <= options.max_iterations && !pairs.empty(); ++iteration) {
    double largest_step = 0.0;
    for (const ScalablePair& pair : pairs) {
      const std::vector<float> r1 = output_channel_ranges(graph, graph.nodes[pair.first]);
      const std::vector<float> r2 = input_channel_ranges(graph, graph.nodes[pair.second]);
      std::vector<float> scales(r1.size(), 1.0f);
      double step = 0.0;
      for (size_t c = 0; c < scales.size(); ++c) {
        if (!(r1[c] > 0.0f) || !(r2[c] > 0.0f)) continue;  // a dead channel: nothing to balance
        scales[c] = static_cast<float>(std::sqrt(static_cast<double>(r1[c]) / r2[c]));
        step = std::max(step, std::fabs(static_cast<double>(scales[c]) - 1.0));
      }
      largest_step = std::max(largest_step, step);
      if (step > options.tolerance) scale_pair_channels(graph, pair, scales);
    }
    report.iterations = iteration;
    if (largest_step <= options.tolerance) break;
  }
  return report;
}

}  // namespace octet::quant
