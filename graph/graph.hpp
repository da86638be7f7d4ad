#pragma once
// The in-memory model: values, constant initializers, nodes in topological order.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "graph/node.hpp"
#include "graph/quant_params.hpp"
#include "graph/tensor.hpp"

namespace octet {

struct ValueInfo {
  DType dtype = DType::f32;
  Shape shape;
};

class Graph {
 public:
  std::string name;
  std::vector<Node> nodes;                    // topological order once validate() has passed
  std::map<std::string, Tensor> initializers;  // constants (weights, biases, shape tensors)
  std::vector<std::string> inputs;            // runtime inputs, in order
  std::vector<std::string> outputs;           // graph outputs, in order
  std::map<std::string, ValueInfo> values;    // every value's type; inputs set by the importer,
                                              // the rest by infer_shapes()
  std::map<std::string, QuantParams> quant;   // qparams of int8/int32 values (kept across
                                              // shape inference)
  std::map<std::string, std::string> metadata;  // free-form facts recorded in the model file
                                                // (producer, quantization settings, ...)

  bool is_initializer(const std::string& value) const { return initializers.count(value) != 0; }
  const Tensor* initializer(const std::string& value) const;
  const ValueInfo& value_info(const std::string& value) const;  // throws if unknown

  // Index of the node producing `value`, or -1 for graph inputs and initializers.
  int producer(const std::string& value) const;
  // Indices of the nodes reading `value`.
  std::vector<size_t> consumers(const std::string& value) const;
  bool is_graph_output(const std::string& value) const;

  // Structural checks: unique value names, every input defined (no dangling edge), no cycle,
  // outputs produced. Reorders nodes topologically when they are merely out of order. Throws
  // octet::Error naming the offending node and value.
  void validate();
  // validate() then computes dtype and shape of every value from the inputs.
  void infer_shapes();

  // Drops initializers and value infos no node or output refers to any more (after passes).
  void remove_unused();
};

}  // namespace octet
