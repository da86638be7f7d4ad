#include "quant/local_input_swap.hpp"

#include <cstring>

#include "graph/error.hpp"
#include "kernels/ref/quantize_ref.hpp"
#include "quant/value_twins.hpp"

namespace octet::quant {

LocalInputSwap::LocalInputSwap(const Graph& tested, const ReferenceActivations& reference)
    : reference_(reference), swaps_(tested.nodes.size()), names_(tested.nodes.size()) {
  for (size_t n = 0; n < tested.nodes.size(); ++n) {
    const Node& node = tested.nodes[n];
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      const std::string& value = node.inputs[i];
      if (value.empty() || tested.is_initializer(value)) continue;
      const int ref = reference.index_of(reference_name(value));
      if (ref < 0) continue;
      const DType dtype = tested.value_info(value).dtype;
      Swap swap{i, ref, dtype == DType::i8, {}};
      if (dtype == DType::i8) {
        auto q = tested.quant.find(value);
        if (q == tested.quant.end() || q->second.scales.size() != 1) continue;
        swap.params = {q->second.scales[0], q->second.zero_points[0]};
      } else if (dtype != DType::f32) {
        continue;
      }
      swaps_[n].push_back(swap);
      names_[n].push_back(value);
    }
  }
}

void LocalInputSwap::before(const NodeEvent& event) {
  if (event.node_index >= swaps_.size()) return;
  const auto& swaps = swaps_[event.node_index];
  for (size_t s = 0; s < swaps.size(); ++s) {
    const Swap& swap = swaps[s];
    const TensorView& input = event.inputs[swap.input];
    const int64_t count = reference_.elements(swap.reference);
    if (event.node.inputs[swap.input] != names_[event.node_index][s] || input.elements() != count)
      throw Error("profile: the local-mode hook is attached to a session of another model (" +
                  event.node.label() + ")");
    if (swap.int8)
      kernels::quantize_f32_to_s8_ref(count, reference_.data(swap.reference), swap.params.scale,
                                      swap.params.zero_point, input.as<int8_t>());
    else
      std::memcpy(input.data, reference_.data(swap.reference),
                  static_cast<size_t>(count) * sizeof(float));
  }
}

}  // namespace octet::quant
