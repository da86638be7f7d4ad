#pragma once
// The fp32 side of a profile. Attached to a session running the fp32 model, it copies every value
// the int8 model can be compared on (comparable_values) into a buffer of its own, so that the
// int8 session run next on the same sample can be compared layer by layer.
//
// This is the profile's one deliberate copy, and its memory bound: one fp32 activation per
// layer, allocated once at construction (bytes()) and overwritten by every run. Nothing else of
// a sample outlives its hook call.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "graph/execution_hook.hpp"
#include "graph/graph.hpp"

namespace octet::quant {

class ReferenceActivations final : public ExecutionHook {
 public:
  // `reference` must be the graph the fp32 session runs (its node order gives node_index).
  ReferenceActivations(const Graph& reference, const Graph& tested);

  void before(const NodeEvent& event) override;
  void after(const NodeEvent& event) override;

  // Index of a kept value, or -1.
  int index_of(const std::string& value) const;
  const std::string& name(int index) const { return buffers_[static_cast<size_t>(index)].name; }
  // The value from the last run (zeros before the first).
  const float* data(int index) const { return buffers_[static_cast<size_t>(index)].values.data(); }
  int64_t elements(int index) const {
    return static_cast<int64_t>(buffers_[static_cast<size_t>(index)].values.size());
  }
  size_t count() const { return buffers_.size(); }
  // Total bytes held: the profile's peak for activations.
  size_t bytes() const;

 private:
  struct Buffer {
    std::string name;
    std::vector<float> values;
  };
  void capture(int index, const TensorView& view, const Node& node);

  std::vector<Buffer> buffers_;
  std::map<std::string, int> index_;
  std::vector<std::vector<std::pair<size_t, int>>> outputs_at_node_;  // (output position, buffer)
  std::vector<std::vector<std::pair<size_t, int>>> inputs_at_node_;  // graph inputs at first reader
};

}  // namespace octet::quant
