#pragma once
// A graph bound to backends: one prepared kernel per node, every value given a home (a constant
// initializer or an offset in the activation arena). Immutable once built, so any number of
// sessions (threads) can run the same plan, each with its own arena.
#include <memory>
#include <string>
#include <vector>

#include "backends/backend.hpp"
#include "graph/graph.hpp"

namespace octet {

struct ValueSlot {
  std::string name;
  DType dtype = DType::f32;
  Shape shape;
  const Tensor* constant = nullptr;  // initializer, else lives in the arena at `offset`
  size_t offset = 0;
  size_t bytes = 0;
};

struct PlanStep {
  size_t node_index;
  std::unique_ptr<Kernel> kernel;
  std::vector<int> inputs;   // slot ids; -1 for an omitted optional input
  std::vector<int> outputs;  // slot ids; -1 for an omitted optional output
  std::string backend;       // which backend prepared it
  std::string fallback_reason;  // why the preferred backend did not (empty when it did)
};

class CompiledPlan {
 public:
  // `preferred` runs every node it supports; the others fall back to `fallback`.
  CompiledPlan(std::shared_ptr<const Graph> graph, const Backend& preferred, const Backend& fallback);

  const Graph& graph() const { return *graph_; }
  const std::vector<ValueSlot>& slots() const { return slots_; }
  const std::vector<PlanStep>& steps() const { return steps_; }
  const std::vector<int>& input_slots() const { return input_slots_; }
  const std::vector<int>& output_slots() const { return output_slots_; }
  size_t arena_bytes() const { return arena_bytes_; }
  // "ref: 42 nodes" or "cpu: 40 nodes, ref: 2 nodes (Softmax 'prob': reason)".
  std::string partition_summary() const;

 private:
  std::shared_ptr<const Graph> graph_;
  std::vector<ValueSlot> slots_;
  std::vector<PlanStep> steps_;
  std::vector<int> input_slots_;
  std::vector<int> output_slots_;
  size_t arena_bytes_ = 0;
  std::vector<std::string> fallback_reasons_;
};

}  // namespace octet
