#include "engine/model.hpp"

#include "graph/passes/passes.hpp"

namespace octet {

Model Model::from_graph(Graph graph, bool optimize) {
  if (optimize) optimize_for_inference(graph);
  else graph.infer_shapes();
  Model model;
  model.graph_ = std::make_shared<const Graph>(std::move(graph));
  return model;
}

int64_t node_macs(const Graph& graph, const Node& node) {
  if (node.op == "Conv" || node.op == "QConv" || node.op == "DynQConv") {
    const Shape& w = graph.value_info(node.inputs[1]).shape;
    const Shape& y = graph.value_info(node.outputs[0]).shape;
    // Each output element sums (in_channels / group) * kh * kw products.
    return shape_elements(y) * w[1] * w[2] * w[3];
  }
  if (node.op == "Gemm" || node.op == "MatMul" || node.op == "QGemm" || node.op == "DynQGemm") {
    const Shape& a = graph.value_info(node.inputs[0]).shape;
    const Shape& y = graph.value_info(node.outputs[0]).shape;
    const bool trans_a = node.op == "Gemm" && node.attrs.get_int("transA", 0) != 0;
    return shape_elements(y) * (trans_a ? a[a.size() - 2] : a.back());
  }
  return 0;
}

ModelStats Model::stats() const {
  ModelStats stats;
  stats.nodes = graph_->nodes.size();
  for (const auto& entry : graph_->initializers) {
    stats.parameters += entry.second.elements();
    stats.parameter_bytes += entry.second.bytes();
  }
  for (const auto& node : graph_->nodes) stats.macs += node_macs(*graph_, node);
  return stats;
}

}  // namespace octet
