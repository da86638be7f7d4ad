#pragma once
// What Octet knows about each operator: its attributes, input/output counts and how to infer
// its output types. The ONNX importer refuses any op or attribute not listed here, so a model
// either imports into something every backend understands or fails with a precise message.
#include <functional>
#include <string>
#include <vector>

#include "graph/graph.hpp"

namespace octet {

using InferFunction = std::function<std::vector<ValueInfo>(const Graph&, const Node&,
                                                           const std::vector<ValueInfo>& inputs)>;

struct OpSchema {
  std::string op;
  size_t min_inputs = 1;
  size_t max_inputs = 1;
  size_t max_outputs = 1;
  std::vector<std::string> attributes;  // accepted attribute names
  InferFunction infer;
};

// nullptr when Octet does not support `op`.
const OpSchema* find_op_schema(const std::string& op);
// The float (ONNX) ops the importer accepts.
std::vector<std::string> supported_ops();
// Octet's own int8 ops, produced by the quantization pass (never imported from ONNX).
const std::vector<OpSchema>& quantized_op_schemas();

}  // namespace octet
