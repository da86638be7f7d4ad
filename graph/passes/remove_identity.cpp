#include "graph/passes/passes.hpp"

namespace octet {
namespace {

void rename_value(Graph& graph, const std::string& from, const std::string& to) {
  for (Node& node : graph.nodes) {
    for (auto& input : node.inputs)
      if (input == from) input = to;
    for (auto& output : node.outputs)
      if (output == from) output = to;
  }
}

}  // namespace

size_t remove_identity(Graph& graph) {
  size_t removed = 0;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node node = graph.nodes[i];
    if (node.op != "Identity" && node.op != "Dropout") continue;
    const std::string& in = node.inputs[0];
    const std::string& out = node.outputs[0];
    const bool in_is_source = graph.producer(in) < 0;  // graph input or initializer
    if (graph.is_graph_output(out)) {
      // The graph output name must survive: rename the producer's value instead, unless the
      // value comes straight from an input or initializer (then the node has to stay) or is
      // itself a graph output.
      if (in_is_source || graph.is_graph_output(in)) continue;
      graph.nodes.erase(graph.nodes.begin() + static_cast<std::ptrdiff_t>(i));
      rename_value(graph, in, out);
    } else {
      graph.nodes.erase(graph.nodes.begin() + static_cast<std::ptrdiff_t>(i));
      rename_value(graph, out, in);
    }
    graph.values.erase(out);
    --i;
    ++removed;
  }
  if (removed) graph.remove_unused();
  return removed;
}

}  // namespace octet
