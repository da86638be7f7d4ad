#pragma once
// The hook around OverflowCounter: attached to a session running the int8 model, it counts
// pair saturation and accumulator width for every QConv/QGemm from the layer's input, in
// before(), and keeps only the counts.
#include <memory>
#include <string>
#include <vector>

#include "graph/execution_hook.hpp"
#include "quant/accumulator_overflow.hpp"

namespace octet::quant {

struct LayerOverflow {
  size_t node_index = 0;
  std::string node, op;
  OverflowCounts counts;
};

class OverflowProfiler final : public ExecutionHook {
 public:
  // `graph` must be the graph the session runs.
  explicit OverflowProfiler(const Graph& graph, int accumulator_bits = 24);

  void before(const NodeEvent& event) override;

  const std::vector<LayerOverflow>& layers() const { return layers_; }
  int accumulator_bits() const { return bits_; }

 private:
  int bits_;
  std::vector<LayerOverflow> layers_;
  std::vector<std::unique_ptr<OverflowCounter>> counters_;  // parallel to layers_
  std::vector<int> layer_of_node_;                          // -1: not counted
};

}  // namespace octet::quant
