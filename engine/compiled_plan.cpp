#include "engine/compiled_plan.hpp"

#include <map>

#include "engine/memory_plan.hpp"
#include "graph/error.hpp"

namespace octet {

CompiledPlan::CompiledPlan(std::shared_ptr<const Graph> graph, const Backend& preferred,
                           const Backend& fallback)
    : graph_(std::move(graph)) {
  const Graph& g = *graph_;
  std::map<std::string, int> slot_of;
  auto slot_for = [&](const std::string& name) {
    auto it = slot_of.find(name);
    if (it != slot_of.end()) return it->second;
    const ValueInfo& info = g.value_info(name);
    ValueSlot slot{name, info.dtype, info.shape, g.initializer(name), 0,
                   static_cast<size_t>(shape_elements(info.shape)) * dtype_size(info.dtype)};
    slots_.push_back(std::move(slot));
    return slot_of[name] = static_cast<int>(slots_.size() - 1);
  };
  for (const auto& input : g.inputs) input_slots_.push_back(slot_for(input));

  const int step_count = static_cast<int>(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& node = g.nodes[i];
    PlanStep step;
    step.node_index = i;
    Support support = preferred.supports(g, node);
    const Backend& chosen = support.ok ? preferred : fallback;
    if (!support.ok) {
      Support fallback_support = fallback.supports(g, node);
      if (!fallback_support.ok)
        throw Error("no backend can run " + node.label() + ": " + support.reason + "; " + fallback_support.reason);
      fallback_reasons_.push_back(node.label() + ": " + support.reason);
      step.fallback_reason = support.reason;
    }
    step.backend = chosen.name();
    step.kernel = chosen.prepare(g, node);
    for (const auto& name : node.inputs) step.inputs.push_back(name.empty() ? -1 : slot_for(name));
    for (const auto& name : node.outputs) step.outputs.push_back(name.empty() ? -1 : slot_for(name));
    steps_.push_back(std::move(step));
  }
  for (const auto& output : g.outputs) output_slots_.push_back(slot_for(output));

  // Lifetimes of arena values, then one arena for all of them.
  std::vector<BufferRequest> requests;
  std::vector<int> request_slot;
  std::vector<int> first(slots_.size(), step_count), last(slots_.size(), -1);
  for (int slot : input_slots_) first[static_cast<size_t>(slot)] = -1;
  for (int s = 0; s < step_count; ++s) {
    for (int slot : steps_[static_cast<size_t>(s)].outputs)
      if (slot >= 0) first[static_cast<size_t>(slot)] = std::min(first[static_cast<size_t>(slot)], s);
    for (int slot : steps_[static_cast<size_t>(s)].inputs)
      if (slot >= 0) last[static_cast<size_t>(slot)] = std::max(last[static_cast<size_t>(slot)], s);
  }
  for (int slot : output_slots_) last[static_cast<size_t>(slot)] = step_count;
  for (size_t slot = 0; slot < slots_.size(); ++slot) {
    if (slots_[slot].constant) continue;
    // A value written but never read still needs a place to be written to.
    requests.push_back({slots_[slot].bytes, first[slot], std::max(last[slot], first[slot])});
    request_slot.push_back(static_cast<int>(slot));
  }
  MemoryPlan memory = plan_memory(requests);
  for (size_t r = 0; r < requests.size(); ++r)
    slots_[static_cast<size_t>(request_slot[r])].offset = memory.offsets[r];
  arena_bytes_ = memory.arena_bytes;
}

std::string CompiledPlan::partition_summary() const {
  std::map<std::string, size_t> counts;
  for (const auto& step : steps_) ++counts[step.backend];
  std::string text;
  for (const auto& entry : counts)
    text += (text.empty() ? "" : ", ") + entry.first + ": " + std::to_string(entry.second) + " nodes";
  for (const auto& reason : fallback_reasons_) text += "; fallback " + reason;
  return text;
}

}  // namespace octet
