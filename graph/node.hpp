#pragma once
#include <string>
#include <vector>

#include "graph/attributes.hpp"

namespace octet {

// One operation. Inputs and outputs name values of the graph (SSA: every value has exactly one
// producer). An empty input name is an omitted optional input, as in ONNX.
struct Node {
  std::string name;
  std::string op;  // ONNX op type for float ops ("Conv"); Octet's own names for int8 ones later
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  Attributes attrs;

  // "Conv 'layer1.0.conv1'": how errors refer to a node.
  std::string label() const { return op + " '" + name + "'"; }
  bool has_input(size_t i) const { return i < inputs.size() && !inputs[i].empty(); }
};

}  // namespace octet
