#include "quant/reference_activations.hpp"

#include <algorithm>
#include <cstring>

#include "graph/error.hpp"
#include "quant/value_twins.hpp"

namespace octet::quant {

ReferenceActivations::ReferenceActivations(const Graph& reference, const Graph& tested)
    : outputs_at_node_(reference.nodes.size()), inputs_at_node_(reference.nodes.size()) {
  for (const auto& name : comparable_values(reference, tested)) {
    const int64_t elements = shape_elements(reference.value_info(name).shape);
    index_[name] = static_cast<int>(buffers_.size());
    buffers_.push_back({name, std::vector<float>(static_cast<size_t>(elements), 0.0f)});
  }
  for (size_t n = 0; n < reference.nodes.size(); ++n) {
    const Node& node = reference.nodes[n];
    for (size_t o = 0; o < node.outputs.size(); ++o) {
      const int index = index_of(node.outputs[o]);
      if (index >= 0) outputs_at_node_[n].emplace_back(o, index);
    }
  }
  for (const auto& [node, inputs] : graph_input_first_readers(reference))
    for (const auto& [position, name] : inputs) {
      const int index = index_of(name);
      if (index >= 0) inputs_at_node_[node].emplace_back(position, index);
    }
}

int ReferenceActivations::index_of(const std::string& value) const {
  auto it = index_.find(value);
  return it == index_.end() ? -1 : it->second;
}

size_t ReferenceActivations::bytes() const {
  size_t total = 0;
  for (const auto& buffer : buffers_) total += buffer.values.size() * sizeof(float);
  return total;
}

void ReferenceActivations::capture(int index, const TensorView& view, const Node& node) {
  Buffer& buffer = buffers_[static_cast<size_t>(index)];
  if (view.dtype != DType::f32 || view.elements() != static_cast<int64_t>(buffer.values.size()))
    throw Error("profile: reference value '" + buffer.name + "' at " + node.label() +
                " does not have the shape the fp32 graph declares (was the hook attached to "
                "another model?)");
  std::memcpy(buffer.values.data(), view.data, buffer.values.size() * sizeof(float));
}

void ReferenceActivations::before(const NodeEvent& event) {
  if (event.node_index >= inputs_at_node_.size()) return;
  for (const auto& [position, index] : inputs_at_node_[event.node_index])
    capture(index, event.inputs[position], event.node);
}

void ReferenceActivations::after(const NodeEvent& event) {
  if (event.node_index >= outputs_at_node_.size()) return;
  for (const auto& [position, index] : outputs_at_node_[event.node_index]) {
    if (event.node.outputs[position] != name(index))
      throw Error("profile: the fp32 reference hook is attached to a session of another model (" +
                  event.node.label() + " at step " + std::to_string(event.node_index) + ")");
    capture(index, event.outputs[position], event.node);
  }
}

}  // namespace octet::quant
