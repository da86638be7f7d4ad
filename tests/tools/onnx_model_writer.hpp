#pragma once
// Builds small ONNX models in tests (through ONNX's protobuf classes) to feed the importer and
// the CLI with good and deliberately bad files.
#include <onnx/onnx_pb.h>

#include <fstream>
#include <string>
#include <vector>

namespace octet::test {

inline void add_float_initializer(onnx::GraphProto& graph, const std::string& name,
                                  const std::vector<int64_t>& dims, const std::vector<float>& values) {
  auto* tensor = graph.add_initializer();
  tensor->set_name(name);
  tensor->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t dim : dims) tensor->add_dims(dim);
  for (float value : values) tensor->add_float_data(value);
}

inline void add_tensor_value(onnx::ValueInfoProto* info, const std::string& name, const std::vector<int64_t>& dims) {
  info->set_name(name);
  auto* type = info->mutable_type()->mutable_tensor_type();
  type->set_elem_type(onnx::TensorProto::FLOAT);
  for (int64_t dim : dims) type->mutable_shape()->add_dim()->set_dim_value(dim);
}

// input [1,1,4,4] → Conv 2×1×3×3 pad 1 → <middle op> → GlobalAveragePool → Flatten → [1,2].
// `middle_op` is "Relu" for a valid model or anything else to provoke "unsupported op".
inline onnx::ModelProto tiny_conv_model(const std::string& middle_op = "Relu") {
  onnx::ModelProto model;
  model.set_ir_version(7);
  model.add_opset_import()->set_version(13);
  auto* graph = model.mutable_graph();
  graph->set_name("tiny");
  add_tensor_value(graph->add_input(), "input", {1, 1, 4, 4});
  add_tensor_value(graph->add_output(), "logits", {1, 2});
  std::vector<float> weights(18);
  for (size_t i = 0; i < weights.size(); ++i) weights[i] = 0.1f * static_cast<float>(i % 7) - 0.2f;
  add_float_initializer(*graph, "w", {2, 1, 3, 3}, weights);
  add_float_initializer(*graph, "b", {2}, {0.5f, -0.25f});
  auto* conv = graph->add_node();
  conv->set_op_type("Conv");
  conv->set_name("conv1");
  conv->add_input("input");
  conv->add_input("w");
  conv->add_input("b");
  conv->add_output("c");
  auto* pads = conv->add_attribute();
  pads->set_name("pads");
  pads->set_type(onnx::AttributeProto::INTS);
  for (int i = 0; i < 4; ++i) pads->add_ints(1);
  auto* act = graph->add_node();
  act->set_op_type(middle_op);
  act->set_name("act1");
  act->add_input("c");
  act->add_output("r");
  auto* pool = graph->add_node();
  pool->set_op_type("GlobalAveragePool");
  pool->set_name("pool");
  pool->add_input("r");
  pool->add_output("p");
  auto* flatten = graph->add_node();
  flatten->set_op_type("Flatten");
  flatten->set_name("flatten");
  flatten->add_input("p");
  flatten->add_output("logits");
  return model;
}

inline std::string serialize(const onnx::ModelProto& model) {
  std::string bytes;
  model.SerializeToString(&bytes);
  return bytes;
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream file(path, std::ios::binary);
  file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace octet::test
