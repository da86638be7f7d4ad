#pragma once
// ONNX → Octet graph. A separate library (octet_onnx) because it links protobuf; the core
// engine does not. Supports the default-domain ops listed by supported_ops(), opsets 1–17;
// anything else is an error naming the op or attribute and the node.
#include <map>
#include <string>

#include "graph/graph.hpp"

namespace octet {

constexpr int kMinOnnxOpset = 1;
constexpr int kMaxOnnxOpset = 17;

struct OnnxImportOptions {
  // Graph inputs to freeze as constants. Octet plans memory for static shapes, so a tensor that
  // decides a shape (Reshape's target) must be known at import time.
  std::map<std::string, Tensor> constant_inputs;
};

Graph import_onnx_file(const std::string& path, const OnnxImportOptions& options = {});
Graph import_onnx_bytes(const void* data, size_t size, const std::string& origin,
                        const OnnxImportOptions& options = {});

// Names of the model's runtime inputs (initializers excluded), in order, without importing it.
std::vector<std::string> onnx_input_names(const std::string& path);

// Reads one serialized onnx.TensorProto (the input_N.pb / output_N.pb files of ONNX's backend
// test data).
Tensor read_onnx_tensor_file(const std::string& path);

}  // namespace octet
