#include "backends/ref/quantized_params.hpp"

#include <limits>

#include "graph/error.hpp"

namespace octet::ref {

quant::AffineParams affine_params(const Graph& graph, const std::string& value) {
  auto it = graph.quant.find(value);
  if (it == graph.quant.end() || it->second.scales.empty())
    throw Error("value '" + value + "' has no quantization parameters");
  return {it->second.scales[0], it->second.zero_points[0]};
}

OutputStageStorage make_output_stage(const Graph& graph, const Node& node, int64_t channels) {
  OutputStageStorage storage;
  const quant::AffineParams input = affine_params(graph, node.inputs[0]);
  const quant::AffineParams output = affine_params(graph, node.outputs[0]);
  const QuantParams& weight = graph.quant.at(node.inputs[1]);
  const bool per_channel = weight.per_channel();
  for (int64_t c = 0; c < (per_channel ? channels : 1); ++c) {
    // Products in double: M must be the same number on every machine and backend.
    const double real = static_cast<double>(input.scale) * weight.scales[static_cast<size_t>(c)] / output.scale;
    storage.multipliers.push_back(quant::quantize_multiplier(real));
  }
  if (node.has_input(2)) {
    const Tensor* bias = graph.initializer(node.inputs[2]);
    if (!bias) throw Error(node.label() + ": bias must be a constant");
    storage.bias.assign(bias->data<int32_t>(), bias->data<int32_t>() + bias->elements());
  }
  const float inf = std::numeric_limits<float>::infinity();
  const quant::QuantizedRange range =
      node.attrs.has("activation")
          ? quant::quantized_clamp(output, node.attrs.get_float("activation_min", -inf),
                                   node.attrs.get_float("activation_max", inf))
          : quant::QuantizedRange{};
  storage.per_channel = per_channel;
  storage.output_zero_point = output.zero_point;
  storage.clamp = range;
  return storage;
}

}  // namespace octet::ref
