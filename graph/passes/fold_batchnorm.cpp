#include <cmath>

#include "graph/error.hpp"
#include "graph/passes/passes.hpp"

namespace octet {

size_t fold_batchnorm(Graph& graph) {
  size_t folded = 0;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    Node& bn = graph.nodes[i];
    if (bn.op != "BatchNormalization") continue;
    const int producer = graph.producer(bn.inputs[0]);
    if (producer < 0) continue;
    Node& conv = graph.nodes[static_cast<size_t>(producer)];
    if (conv.op != "Conv" || conv.attrs.has("activation")) continue;
    if (graph.consumers(conv.outputs[0]).size() != 1 || graph.is_graph_output(conv.outputs[0])) continue;
    const Tensor* weight = graph.initializer(conv.inputs[1]);
    const Tensor* scale = graph.initializer(bn.inputs[1]);
    const Tensor* shift = graph.initializer(bn.inputs[2]);
    const Tensor* mean = graph.initializer(bn.inputs[3]);
    const Tensor* var = graph.initializer(bn.inputs[4]);
    const Tensor* bias = conv.has_input(2) ? graph.initializer(conv.inputs[2]) : nullptr;
    if (!weight || !scale || !shift || !mean || !var || (conv.has_input(2) && !bias)) continue;
    if (weight->dtype() != DType::f32) continue;

    const int64_t channels = weight->shape()[0];
    const int64_t per_channel = weight->elements() / channels;
    const float epsilon = bn.attrs.get_float("epsilon", 1e-5f);
    Tensor new_weight = weight->clone();
    Tensor new_bias(DType::f32, {channels});
    float* w = new_weight.mutable_data<float>();
    float* b = new_bias.mutable_data<float>();
    for (int64_t c = 0; c < channels; ++c) {
      // y = gamma * (conv(x) + b - mean) / sqrt(var + eps) + beta, computed in double so the
      // folded model matches the unfolded one to float rounding.
      const double factor = static_cast<double>(scale->data<float>()[c]) /
                            std::sqrt(static_cast<double>(var->data<float>()[c]) + epsilon);
      for (int64_t k = 0; k < per_channel; ++k)
        w[c * per_channel + k] = static_cast<float>(w[c * per_channel + k] * factor);
      const double old_bias = bias ? bias->data<float>()[c] : 0.0;
      b[c] = static_cast<float>((old_bias - mean->data<float>()[c]) * factor + shift->data<float>()[c]);
    }
    // Named after the BatchNorm's output, which is unique (node names need not be).
    const std::string weight_name = bn.outputs[0] + ".folded_weight";
    const std::string bias_name = bn.outputs[0] + ".folded_bias";
    graph.initializers[weight_name] = std::move(new_weight);
    graph.initializers[bias_name] = std::move(new_bias);
    conv.inputs.resize(3);
    conv.inputs[1] = weight_name;
    conv.inputs[2] = bias_name;
    conv.outputs[0] = bn.outputs[0];  // the Conv now produces what the BatchNorm produced
    graph.nodes.erase(graph.nodes.begin() + static_cast<std::ptrdiff_t>(i));
    --i;
    ++folded;
  }
  if (folded) graph.remove_unused();
  return folded;
}

}  // namespace octet
