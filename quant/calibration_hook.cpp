#include "quant/calibration_hook.hpp"

#include <algorithm>
#include <cmath>

#include "graph/error.hpp"

namespace octet::quant {

CalibrationHook::CalibrationHook(const Graph& graph, const std::string& observer_kind)
    : kind_(observer_kind) {
  make_observer(kind_);  // reject an unknown kind now, not at the first value
  for (const auto& input : graph.inputs) {
    for (size_t i = 0; i < graph.nodes.size(); ++i) {
      const auto& inputs = graph.nodes[i].inputs;
      auto it = std::find(inputs.begin(), inputs.end(), input);
      if (it == inputs.end()) continue;
      inputs_at_node_[i].emplace_back(static_cast<size_t>(it - inputs.begin()), input);
      break;
    }
  }
}

void CalibrationHook::observe(const std::string& value, const TensorView& view, const Node& node) {
  if (view.dtype != DType::f32 || !view.data) return;
  const float* data = view.as<const float>();
  const int64_t count = view.elements();
  // NaN/Inf in calibration data is a broken data set or model: stop with a clear message
  // instead of silently producing useless ranges.
  for (int64_t i = 0; i < count; ++i)
    if (!std::isfinite(data[i]))
      throw Error("calibration: value '" + value + "' (at " + node.label() + ") contains " +
                  (std::isnan(data[i]) ? "NaN" : "Inf") + " at element " + std::to_string(i));
  auto& observer = observers_[value];
  if (!observer) observer = make_observer(kind_);
  observer->observe(data, static_cast<size_t>(count));
}

void CalibrationHook::before(const NodeEvent& event) {
  auto it = inputs_at_node_.find(event.node_index);
  if (it == inputs_at_node_.end()) return;
  for (const auto& [index, name] : it->second) observe(name, event.inputs[index], event.node);
}

void CalibrationHook::after(const NodeEvent& event) {
  for (size_t i = 0; i < event.output_count; ++i)
    if (!event.node.outputs[i].empty()) observe(event.node.outputs[i], event.outputs[i], event.node);
}

Range CalibrationHook::range(const std::string& value, const RangeRequest& request) const {
  auto it = observers_.find(value);
  if (it == observers_.end()) throw Error("calibration saw no data for value '" + value + "'");
  return it->second->range(request);
}

}  // namespace octet::quant
