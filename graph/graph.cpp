#include "graph/graph.hpp"

#include <algorithm>
#include <deque>

#include "graph/error.hpp"

namespace octet {

const Tensor* Graph::initializer(const std::string& value) const {
  auto it = initializers.find(value);
  return it == initializers.end() ? nullptr : &it->second;
}

const ValueInfo& Graph::value_info(const std::string& value) const {
  auto it = values.find(value);
  if (it == values.end()) throw Error("value '" + value + "' has no known type or shape");
  return it->second;
}

int Graph::producer(const std::string& value) const {
  for (size_t i = 0; i < nodes.size(); ++i)
    for (const auto& output : nodes[i].outputs)
      if (output == value) return static_cast<int>(i);
  return -1;
}

std::vector<size_t> Graph::consumers(const std::string& value) const {
  std::vector<size_t> result;
  for (size_t i = 0; i < nodes.size(); ++i)
    if (std::find(nodes[i].inputs.begin(), nodes[i].inputs.end(), value) != nodes[i].inputs.end())
      result.push_back(i);
  return result;
}

bool Graph::is_graph_output(const std::string& value) const {
  return std::find(outputs.begin(), outputs.end(), value) != outputs.end();
}

void Graph::validate() {
  // Who defines each value: graph inputs, initializers, or exactly one node output.
  std::map<std::string, int> defined_by;  // -1 = input or initializer
  for (const auto& input : inputs) {
    if (input.empty()) throw Error("graph input with an empty name");
    if (!defined_by.emplace(input, -1).second) throw Error("graph input '" + input + "' is listed twice");
  }
  for (const auto& entry : initializers) defined_by.emplace(entry.first, -1);
  for (size_t i = 0; i < nodes.size(); ++i) {
    const Node& node = nodes[i];
    if (node.outputs.empty()) throw Error(node.label() + " has no output");
    for (const auto& output : node.outputs) {
      if (output.empty()) continue;  // omitted optional output
      if (!defined_by.emplace(output, static_cast<int>(i)).second)
        throw Error(node.label() + " writes value '" + output + "' that is already defined");
    }
  }
  for (const auto& node : nodes)
    for (const auto& input : node.inputs)
      if (!input.empty() && !defined_by.count(input))
        throw Error(node.label() + " reads value '" + input +
                    "' that no node, input or initializer defines (dangling edge)");
  for (const auto& output : outputs)
    if (!defined_by.count(output)) throw Error("graph output '" + output + "' is never produced");

  // Kahn's algorithm; keeps the original order among ready nodes so valid graphs don't move.
  const size_t count = nodes.size();
  std::vector<size_t> pending(count, 0);
  std::vector<std::vector<size_t>> dependents(count);
  for (size_t i = 0; i < count; ++i) {
    for (const auto& input : nodes[i].inputs) {
      if (input.empty()) continue;
      int source = defined_by.at(input);
      if (source < 0) continue;
      if (static_cast<size_t>(source) == i)
        throw Error("cycle: " + nodes[i].label() + " reads its own output '" + input + "'");
      dependents[static_cast<size_t>(source)].push_back(i);
      ++pending[i];
    }
  }
  std::vector<size_t> order;
  std::vector<bool> ready(count, false);
  std::deque<size_t> queue;
  for (size_t i = 0; i < count; ++i)
    if (pending[i] == 0) queue.push_back(i);
  while (!queue.empty()) {
    std::sort(queue.begin(), queue.end());
    size_t i = queue.front();
    queue.pop_front();
    order.push_back(i);
    for (size_t dependent : dependents[i])
      if (--pending[dependent] == 0) queue.push_back(dependent);
  }
  if (order.size() != count) {
    std::string stuck;
    for (size_t i = 0; i < count && stuck.size() < 200; ++i)
      if (pending[i] > 0) stuck += (stuck.empty() ? "" : ", ") + nodes[i].label();
    throw Error("cycle in graph through " + stuck);
  }
  std::vector<Node> sorted;
  sorted.reserve(count);
  for (size_t i : order) sorted.push_back(std::move(nodes[i]));
  nodes = std::move(sorted);
}

void Graph::remove_unused() {
  std::set<std::string> used(outputs.begin(), outputs.end());
  used.insert(inputs.begin(), inputs.end());
  for (const auto& node : nodes) {
    used.insert(node.inputs.begin(), node.inputs.end());
    used.insert(node.outputs.begin(), node.outputs.end());
  }
  for (auto it = initializers.begin(); it != initializers.end();)
    it = used.count(it->first) ? std::next(it) : initializers.erase(it);
  for (auto it = values.begin(); it != values.end();)
    it = used.count(it->first) ? std::next(it) : values.erase(it);
  for (auto it = quant.begin(); it != quant.end();)
    it = used.count(it->first) ? std::next(it) : quant.erase(it);
}

}  // namespace octet
