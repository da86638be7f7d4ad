#pragma once
// The executor calls hooks around every node. Observers (calibration) and profilers implement
// this interface; it lives in graph/ because it needs only Node and TensorView, so quant/ can
// implement it without knowing the executor.
#include <cstddef>

#include "graph/node.hpp"
#include "graph/tensor.hpp"

namespace octet {

struct NodeEvent {
  const Node& node;
  size_t node_index;             // position in the executed plan
  const TensorView* inputs;      // valid only during the call: never keep these pointers
  size_t input_count;
  const TensorView* outputs;     // in before(): allocated but not yet written
  size_t output_count;
  const char* backend;           // which backend runs the node ("ref", ...)
};

class ExecutionHook {
 public:
  virtual ~ExecutionHook() = default;
  virtual void before(const NodeEvent& /*event*/) {}
  virtual void after(const NodeEvent& /*event*/) {}
};

}  // namespace octet
