#include "quant/fallback_edits.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "graph/error.hpp"
#include "quant/qparams.hpp"
#include "quant/value_twins.hpp"

namespace octet::quant {
namespace {

size_t node_index(const Graph& graph, const std::string& name, const std::string& which) {
  for (size_t i = 0; i < graph.nodes.size(); ++i)
    if (graph.nodes[i].name == name) return i;
  throw Error("no node named '" + name + "' in the " + which);
}

bool reads(const Node& node, const std::string& value) {
  return std::find(node.inputs.begin(), node.inputs.end(), value) != node.inputs.end();
}

}  // namespace

bool passes_codes_through(const std::string& op) {
  // Nearest Resize copies codes too (quant/quantize_pass.cpp keeps its input's qparams).
  return op == "MaxPool" || op == "Flatten" || op == "Reshape" || op == "QAveragePool" ||
         op == "QGlobalAveragePool" || op == "Identity" || op == "Resize";
}

Graph keep_node_float(const Graph& tested, const Graph& reference, const std::string& name) {
  const size_t t = node_index(tested, name, "int8 model");
  const Node& float_node = reference.nodes[node_index(reference, name, "fp32 reference")];
  const Node& int8_node = tested.nodes[t];
  if (int8_node.outputs.empty() || tested.value_info(int8_node.outputs[0]).dtype != DType::i8)
    throw Error(int8_node.label() + " already runs in fp32");

  Graph out = tested;
  std::vector<Node> replacement;
  for (const auto& input : float_node.inputs) {
    if (input.empty()) continue;
    if (reference.is_initializer(input)) {
      out.initializers[input] = *reference.initializer(input);
      out.values[input] = reference.value_info(input);
      continue;
    }
    auto existing = out.values.find(input);
    if (existing != out.values.end() && existing->second.dtype == DType::f32) continue;
    const std::string twin = int8_twin_name(input);
    if (!out.values.count(twin))
      throw Error(int8_node.label() + ": input '" + input +
                  "' has no float or int8 version in the int8 model");
    bool dequantized = false;
    for (const Node& r : replacement) dequantized = dequantized || (r.outputs[0] == input);
    if (!dequantized)
      replacement.push_back({input + ".dequantize", "DequantizeLinear", {twin}, {input}, {}});
  }
  replacement.push_back(float_node);

  // The float node now writes `output` itself: a Dequantize that used to make it goes, and int8
  // readers of the int8 twin get a Quantize with the twin's qparams.
  std::vector<size_t> removed = {t};
  for (const auto& output : float_node.outputs) {
    if (output.empty()) continue;
    const std::string twin = int8_twin_name(output);
    bool int8_readers = false;
    for (size_t i = 0; i < out.nodes.size(); ++i) {
      if (i == t || !reads(out.nodes[i], twin)) continue;
      if (out.nodes[i].op == "DequantizeLinear" && out.nodes[i].outputs[0] == output)
        removed.push_back(i);
      else
        int8_readers = true;
    }
    if (int8_readers)
      replacement.push_back({output + ".quantize", "QuantizeLinear", {output}, {twin}, {}});
  }
  std::vector<Node> nodes;
  for (size_t i = 0; i < out.nodes.size(); ++i) {
    if (i == t) nodes.insert(nodes.end(), replacement.begin(), replacement.end());
    if (std::find(removed.begin(), removed.end(), i) == removed.end())
      nodes.push_back(out.nodes[i]);
  }
  out.nodes = std::move(nodes);
  out.infer_shapes();  // validates and restores topological order
  out.remove_unused();
  return out;
}

Graph rerange_activation(const Graph& tested, const std::string& value, Range range,
                         bool symmetric) {
  const int producer = tested.producer(value);
  if (producer < 0 || tested.value_info(value).dtype != DType::i8)
    throw Error("'" + value + "' is not an int8 activation of the model");
  const Node& source = tested.nodes[static_cast<size_t>(producer)];
  if (passes_codes_through(source.op))
    throw Error("'" + value + "' shares its qparams with the input of " + source.label() +
                "; re-range the value that input comes from");
  const QuantParams& old = tested.quant.at(value);
  const AffineParams chosen = choose_activation_qparams(range.lo, range.hi, symmetric);
  const QuantParams fresh{{chosen.scale}, {chosen.zero_point}, -1};
  const double bias_factor = static_cast<double>(old.scales.at(0)) / chosen.scale;

  Graph out = tested;
  std::vector<std::string> pending = {value};
  while (!pending.empty()) {
    const std::string current = pending.back();
    pending.pop_back();
    out.quant[current] = fresh;
    for (size_t c : out.consumers(current)) {
      Node& consumer = out.nodes[c];
      if (passes_codes_through(consumer.op) &&
          out.value_info(consumer.outputs[0]).dtype == DType::i8) {
        pending.push_back(consumer.outputs[0]);
      } else if ((consumer.op == "QConv" || consumer.op == "QGemm") &&
                 consumer.inputs[0] == current && consumer.has_input(2)) {
        // bias = round(b / (s_in · s_w)): the same real bias at the new input scale.
        const Tensor& bias = *out.initializer(consumer.inputs[2]);
        Tensor rescaled = bias.clone();
        int32_t* codes = rescaled.mutable_data<int32_t>();
        for (int64_t i = 0; i < rescaled.elements(); ++i) {
          const double code = std::nearbyint(codes[i] * bias_factor);
          codes[i] =
              static_cast<int32_t>(std::clamp(code, double{std::numeric_limits<int32_t>::min()},
                                              double{std::numeric_limits<int32_t>::max()}));
        }
        out.initializers[consumer.inputs[2]] = std::move(rescaled);
      }
    }
  }
  return out;
}

}  // namespace octet::quant
