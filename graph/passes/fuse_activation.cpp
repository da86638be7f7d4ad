#include <limits>

#include "graph/passes/passes.hpp"

namespace octet {
namespace {

// Reads a Clip bound: attribute (opset < 11) or optional constant input (opset >= 11).
bool clip_bound(const Graph& graph, const Node& clip, size_t input, const char* attribute,
                float fallback, float& value) {
  if (clip.attrs.has(attribute)) {
    value = clip.attrs.get_float(attribute, fallback);
    return true;
  }
  if (!clip.has_input(input)) {
    value = fallback;
    return true;
  }
  const Tensor* tensor = graph.initializer(clip.inputs[input]);
  if (!tensor || tensor->dtype() != DType::f32 || tensor->elements() != 1) return false;
  value = tensor->data<float>()[0];
  return true;
}

}  // namespace

size_t fuse_activation(Graph& graph) {
  size_t fused = 0;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node activation = graph.nodes[i];
    if (activation.op != "Relu" && activation.op != "Clip") continue;
    const int producer_index = graph.producer(activation.inputs[0]);
    if (producer_index < 0) continue;
    Node& producer = graph.nodes[static_cast<size_t>(producer_index)];
    if (producer.op != "Conv" && producer.op != "Gemm" && producer.op != "Add") continue;
    if (producer.attrs.has("activation")) continue;
    if (graph.consumers(producer.outputs[0]).size() != 1 || graph.is_graph_output(producer.outputs[0]))
      continue;
    float low = 0.0f, high = std::numeric_limits<float>::infinity();
    if (activation.op == "Clip") {
      if (!clip_bound(graph, activation, 1, "min", -std::numeric_limits<float>::infinity(), low) ||
          !clip_bound(graph, activation, 2, "max", std::numeric_limits<float>::infinity(), high))
        continue;
    }
    producer.attrs.set("activation", activation.op);
    producer.attrs.set("activation_min", low);
    producer.attrs.set("activation_max", high);
    graph.values.erase(producer.outputs[0]);
    producer.outputs[0] = activation.outputs[0];
    graph.nodes.erase(graph.nodes.begin() + static_cast<std::ptrdiff_t>(i));
    --i;
    ++fused;
  }
  if (fused) graph.remove_unused();
  return fused;
}

void optimize_for_inference(Graph& graph) {
  graph.infer_shapes();  // reject malformed graphs before rewriting them
  remove_identity(graph);
  fold_batchnorm(graph);
  fuse_activation(graph);
  graph.infer_shapes();
}

}  // namespace octet
