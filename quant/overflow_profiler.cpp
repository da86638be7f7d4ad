#include "quant/overflow_profiler.hpp"

#include "graph/error.hpp"

namespace octet::quant {

OverflowProfiler::OverflowProfiler(const Graph& graph, int accumulator_bits)
    : bits_(accumulator_bits), layer_of_node_(graph.nodes.size(), -1) {
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const Node& node = graph.nodes[n];
    if (node.op != "QConv" && node.op != "QGemm") continue;
    layer_of_node_[n] = static_cast<int>(layers_.size());
    layers_.push_back({n, node.name, node.op, {}});
    counters_.push_back(std::make_unique<OverflowCounter>(graph, node, accumulator_bits));
  }
}

void OverflowProfiler::before(const NodeEvent& event) {
  if (event.node_index >= layer_of_node_.size() || layer_of_node_[event.node_index] < 0) return;
  const size_t layer = static_cast<size_t>(layer_of_node_[event.node_index]);
  if (event.node.name != layers_[layer].node || event.inputs[0].dtype != DType::i8)
    throw Error("profile: the overflow counter is attached to a session of another model (" +
                event.node.label() + ")");
  counters_[layer]->count(event.inputs[0].as<const int8_t>(), layers_[layer].counts);
}

}  // namespace octet::quant
