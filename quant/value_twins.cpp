#include "quant/value_twins.hpp"

#include <algorithm>
#include <set>

namespace octet::quant {
namespace {
const std::string kInt8Suffix = ".q";
}

std::string int8_twin_name(const std::string& float_value) {
  return float_value + kInt8Suffix;
}

std::string reference_name(const std::string& tested_value) {
  const size_t n = tested_value.size(), s = kInt8Suffix.size();
  if (n > s && tested_value.compare(n - s, s, kInt8Suffix) == 0)
    return tested_value.substr(0, n - s);
  return tested_value;
}

std::vector<std::string> comparable_values(const Graph& reference, const Graph& tested) {
  std::vector<std::string> ordered = reference.inputs;
  for (const Node& node : reference.nodes)
    for (const auto& output : node.outputs)
      if (!output.empty()) ordered.push_back(output);
  std::vector<std::string> result;
  std::set<std::string> seen;
  for (const auto& name : ordered) {
    if (reference.is_initializer(name) || !seen.insert(name).second) continue;
    auto info = reference.values.find(name);
    if (info == reference.values.end() || info->second.dtype != DType::f32) continue;
    if (tested.values.count(name) || tested.values.count(int8_twin_name(name)))
      result.push_back(name);
  }
  return result;
}

std::map<size_t, std::vector<std::pair<size_t, std::string>>> graph_input_first_readers(
    const Graph& graph) {
  std::map<size_t, std::vector<std::pair<size_t, std::string>>> readers;
  for (const auto& input : graph.inputs) {
    for (size_t i = 0; i < graph.nodes.size(); ++i) {
      const auto& inputs = graph.nodes[i].inputs;
      auto it = std::find(inputs.begin(), inputs.end(), input);
      if (it == inputs.end()) continue;
      readers[i].emplace_back(static_cast<size_t>(it - inputs.begin()), input);
      break;
    }
  }
  return readers;
}

}  // namespace octet::quant
