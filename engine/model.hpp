#pragma once
// A loaded, inference-ready model: an optimized, shape-checked graph plus facts about it.
#include <memory>
#include <string>

#include "graph/graph.hpp"

namespace octet {

struct ModelStats {
  size_t nodes = 0;
  int64_t parameters = 0;        // elements of all initializers
  size_t parameter_bytes = 0;
  int64_t macs = 0;              // multiply-accumulates of one forward pass
};

class Model {
 public:
  // Takes an imported graph, checks it and applies the inference passes (BN folding, Identity
  // removal, activation fusion). Throws octet::Error on any structural problem.
  static Model from_graph(Graph graph, bool optimize = true);

  const Graph& graph() const { return *graph_; }
  std::shared_ptr<const Graph> shared_graph() const { return graph_; }
  ModelStats stats() const;

 private:
  std::shared_ptr<const Graph> graph_;
};

// MACs of one node given the graph's inferred shapes (0 for ops that only move data).
int64_t node_macs(const Graph& graph, const Node& node);

}  // namespace octet
