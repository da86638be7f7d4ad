#include "quant/layer_input_mean_hook.hpp"

#include "graph/error.hpp"

namespace octet::quant {

LayerInputMeanHook::LayerInputMeanHook(const Graph& graph, const std::vector<std::string>& layers) {
  for (const std::string& layer : layers) {
    const int producer = graph.producer(layer);
    if (producer < 0) throw Error("no node produces '" + layer + "' to watch its input");
    const Node& node = graph.nodes[static_cast<size_t>(producer)];
    Sum& sum = sums_[layer];
    const ValueInfo& input = graph.value_info(node.inputs[0]);
    sum.shape = input.shape;
    sum.values.assign(static_cast<size_t>(shape_elements(input.shape)), 0.0);
    if (input.dtype == DType::i8) {
      auto it = graph.quant.find(node.inputs[0]);
      if (it == graph.quant.end() || it->second.scales.size() != 1)
        throw Error(node.label() + ": int8 input '" + node.inputs[0] + "' has no per-tensor qparams");
      sum.dequantize = true;
      sum.scale = it->second.scales[0];
      sum.zero_point = it->second.zero_points[0];
    } else if (input.dtype != DType::f32) {
      throw Error(node.label() + ": input '" + node.inputs[0] + "' is " + dtype_name(input.dtype) +
                  ", not f32 or i8");
    }
  }
}

void LayerInputMeanHook::before(const NodeEvent& event) {
  if (event.node.outputs.empty() || event.input_count == 0) return;
  auto it = sums_.find(event.node.outputs[0]);
  if (it == sums_.end()) return;
  Sum& sum = it->second;
  const TensorView& input = event.inputs[0];
  if (static_cast<size_t>(input.elements()) != sum.values.size())
    throw Error(event.node.label() + ": input has " + std::to_string(input.elements()) + " values, expected " +
                std::to_string(sum.values.size()));
  if (sum.dequantize) {
    const int8_t* q = input.as<const int8_t>();
    for (size_t i = 0; i < sum.values.size(); ++i)
      sum.values[i] += static_cast<double>(sum.scale) * (static_cast<int32_t>(q[i]) - sum.zero_point);
  } else {
    const float* x = input.as<const float>();
    for (size_t i = 0; i < sum.values.size(); ++i) sum.values[i] += x[i];
  }
  ++sum.runs;
}

Tensor LayerInputMeanHook::mean(const std::string& layer_output) const {
  auto it = sums_.find(layer_output);
  if (it == sums_.end()) throw Error("the input of the layer producing '" + layer_output + "' was not watched");
  const Sum& sum = it->second;
  if (sum.runs == 0) throw Error("the layer producing '" + layer_output + "' never ran");
  Tensor mean(DType::f32, sum.shape);
  for (size_t i = 0; i < sum.values.size(); ++i)
    mean.mutable_data<float>()[i] = static_cast<float>(sum.values[i] / static_cast<double>(sum.runs));
  return mean;
}

}  // namespace octet::quant
