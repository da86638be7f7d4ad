#include "graph/onnx/onnx_import.hpp"

#include <onnx/onnx_pb.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>

#include "graph/error.hpp"
#include "graph/onnx/resize_import.hpp"
#include "graph/op_schema.hpp"

namespace octet {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw Error("cannot open '" + path + "'");
  std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (file.bad()) throw Error("error reading '" + path + "'");
  return bytes;
}

DType dtype_from_onnx(int32_t type, const std::string& what) {
  switch (type) {
    case onnx::TensorProto::FLOAT: return DType::f32;
    case onnx::TensorProto::UINT8: return DType::u8;
    case onnx::TensorProto::INT8: return DType::i8;
    case onnx::TensorProto::INT32: return DType::i32;
    case onnx::TensorProto::INT64: return DType::i64;
    default: break;
  }
  const std::string name = onnx::TensorProto::DataType_IsValid(type)
                               ? onnx::TensorProto::DataType_Name(static_cast<onnx::TensorProto::DataType>(type))
                               : std::to_string(type);
  throw Error(what + " has unsupported data type " + name);
}

// Copies typed repeated fields element by element, after checking the count.
template <class Field, class T>
void copy_field(const Field& field, int64_t count, T* out, const std::string& what) {
  if (field.size() != count)
    throw Error(what + ": expected " + std::to_string(count) + " values, found " + std::to_string(field.size()));
  for (int64_t i = 0; i < count; ++i) out[i] = static_cast<T>(field.Get(static_cast<int>(i)));
}

Tensor tensor_from_proto(const onnx::TensorProto& proto, const std::string& what) {
  if (proto.data_location() == onnx::TensorProto::EXTERNAL)
    throw Error(what + " uses external data files, which are not supported (save the model with inline weights)");
  Shape shape(proto.dims().begin(), proto.dims().end());
  for (int64_t dim : shape)
    if (dim < 0) throw Error(what + " has a negative dimension");
  const DType dtype = dtype_from_onnx(proto.data_type(), what);
  Tensor tensor(dtype, shape);
  const int64_t count = tensor.elements();
  if (proto.has_raw_data()) {
    if (proto.raw_data().size() != tensor.bytes())
      throw Error(what + ": raw data has " + std::to_string(proto.raw_data().size()) + " bytes, shape " +
                  shape_str(shape) + " needs " + std::to_string(tensor.bytes()));
    if (tensor.bytes()) std::memcpy(tensor.mutable_raw(), proto.raw_data().data(), tensor.bytes());
    return tensor;
  }
  switch (dtype) {
    case DType::f32: copy_field(proto.float_data(), count, tensor.mutable_data<float>(), what); break;
    case DType::i64: copy_field(proto.int64_data(), count, tensor.mutable_data<int64_t>(), what); break;
    case DType::i32: copy_field(proto.int32_data(), count, tensor.mutable_data<int32_t>(), what); break;
    case DType::i8: copy_field(proto.int32_data(), count, tensor.mutable_data<int8_t>(), what); break;
    case DType::u8: copy_field(proto.int32_data(), count, tensor.mutable_data<uint8_t>(), what); break;
  }
  return tensor;
}

AttributeValue attribute_value(const onnx::AttributeProto& attr, const std::string& where) {
  switch (attr.type()) {
    case onnx::AttributeProto::INT: return static_cast<int64_t>(attr.i());
    case onnx::AttributeProto::FLOAT: return attr.f();
    case onnx::AttributeProto::STRING: return attr.s();
    case onnx::AttributeProto::INTS: return std::vector<int64_t>(attr.ints().begin(), attr.ints().end());
    case onnx::AttributeProto::FLOATS: return std::vector<float>(attr.floats().begin(), attr.floats().end());
    default: break;
  }
  throw Error("attribute '" + attr.name() + "' of " + where + " has an unsupported kind (" +
              onnx::AttributeProto::AttributeType_Name(attr.type()) + ")");
}

ValueInfo value_info_from_proto(const onnx::ValueInfoProto& info) {
  if (!info.type().has_tensor_type())
    throw Error("graph input '" + info.name() + "' is not a tensor");
  const auto& type = info.type().tensor_type();
  ValueInfo value;
  value.dtype = dtype_from_onnx(type.elem_type(), "graph input '" + info.name() + "'");
  if (!type.has_shape()) throw Error("graph input '" + info.name() + "' has no shape");
  for (const auto& dim : type.shape().dim()) {
    // A symbolic dimension (batch "N") is bound to 1: Octet plans memory for fixed shapes.
    value.shape.push_back(dim.has_dim_value() ? dim.dim_value() : 1);
    if (dim.has_dim_value() && dim.dim_value() < 0)
      throw Error("graph input '" + info.name() + "' has a negative dimension");
  }
  return value;
}

void import_node(const onnx::NodeProto& proto, size_t index, int opset, Graph& graph) {
  Node node;
  node.op = proto.op_type();
  node.name = proto.name().empty() ? proto.op_type() + "_" + std::to_string(index) : proto.name();
  if (!proto.domain().empty() && proto.domain() != "ai.onnx")
    throw Error("unsupported op " + proto.domain() + "." + node.label() + " (only the default ONNX domain is supported)");
  if (node.op == "Constant") {
    // Constants become initializers so passes and kernels see them as weights.
    for (const auto& attr : proto.attribute()) {
      if (attr.name() != "value" || attr.type() != onnx::AttributeProto::TENSOR)
        throw Error("unsupported attribute '" + attr.name() + "' on " + node.label() + " (only 'value' tensors)");
      if (proto.output_size() != 1) throw Error(node.label() + " must have one output");
      graph.initializers[proto.output(0)] = tensor_from_proto(attr.t(), node.label());
    }
    if (!graph.initializers.count(proto.output(0))) throw Error(node.label() + " has no 'value'");
    return;
  }
  if (node.op == "Resize" || node.op == "Upsample") {
    graph.nodes.push_back(resize_from_onnx(proto, std::move(node), opset, graph));
    return;
  }
  const OpSchema* schema = find_op_schema(node.op);
  if (!schema) throw Error("unsupported op " + node.label());
  node.inputs.assign(proto.input().begin(), proto.input().end());
  node.outputs.assign(proto.output().begin(), proto.output().end());
  for (const auto& attr : proto.attribute()) {
    bool known = false;
    for (const auto& name : schema->attributes) known = known || name == attr.name();
    if (!known || attr.name().rfind("activation", 0) == 0 || attr.name() == "coerce_2d")
      throw Error("unsupported attribute '" + attr.name() + "' on " + node.label());
    node.attrs.set(attr.name(), attribute_value(attr, node.label()));
  }
  if (node.op == "Softmax" && opset < 13) {
    // Opset 1–12 Softmax flattens the input to 2-D at `axis` (default 1).
    if (!node.attrs.has("axis")) node.attrs.set("axis", int64_t{1});
    node.attrs.set("coerce_2d", int64_t{1});
  }
  graph.nodes.push_back(std::move(node));
}

}  // namespace

Graph import_onnx_bytes(const void* data, size_t size, const std::string& origin,
                        const OnnxImportOptions& options) {
  if (size > static_cast<size_t>(std::numeric_limits<int>::max()))
    throw Error(origin + ": model larger than 2 GiB is not supported");
  onnx::ModelProto model;
  if (!model.ParseFromArray(data, static_cast<int>(size)))
    throw Error(origin + ": not a valid ONNX model (protobuf parse failed; truncated or corrupt file?)");
  int opset = -1;
  for (const auto& entry : model.opset_import())
    if (entry.domain().empty() || entry.domain() == "ai.onnx") opset = static_cast<int>(entry.version());
  if (opset < 0)
    throw Error(origin + ": model declares no ONNX opset (truncated or not an ONNX model?)");
  if (opset < kMinOnnxOpset || opset > kMaxOnnxOpset)
    throw Error(origin + ": opset " + std::to_string(opset) + " is not supported (supported: " +
                std::to_string(kMinOnnxOpset) + "–" + std::to_string(kMaxOnnxOpset) + ")");
  const onnx::GraphProto& proto = model.graph();
  Graph graph;
  graph.name = proto.name();
  for (const auto& initializer : proto.initializer()) {
    if (initializer.name().empty()) throw Error(origin + ": initializer without a name");
    graph.initializers[initializer.name()] =
        tensor_from_proto(initializer, "initializer '" + initializer.name() + "'");
  }
  for (const auto& input : proto.input()) {
    // Old exporters list initializers among the inputs too; those are constants, not inputs.
    if (graph.is_initializer(input.name())) continue;
    auto frozen = options.constant_inputs.find(input.name());
    if (frozen != options.constant_inputs.end()) {
      graph.initializers[input.name()] = frozen->second;
      continue;
    }
    graph.inputs.push_back(input.name());
    graph.values[input.name()] = value_info_from_proto(input);
  }
  for (int i = 0; i < proto.node_size(); ++i)
    import_node(proto.node(i), static_cast<size_t>(i), opset, graph);
  for (const auto& output : proto.output()) graph.outputs.push_back(output.name());
  if (graph.outputs.empty()) throw Error(origin + ": model has no outputs");
  // Drop constants nothing reads: Resize's scales/sizes (attributes now), unused exporter leftovers.
  graph.remove_unused();
  try {
    graph.infer_shapes();
  } catch (const Error& error) {
    throw Error(origin + ": " + error.what());
  }
  return graph;
}

Graph import_onnx_file(const std::string& path, const OnnxImportOptions& options) {
  const std::string bytes = read_file(path);
  return import_onnx_bytes(bytes.data(), bytes.size(), "'" + path + "'", options);
}

std::vector<std::string> onnx_input_names(const std::string& path) {
  const std::string bytes = read_file(path);
  onnx::ModelProto model;
  if (!model.ParseFromString(bytes)) throw Error("'" + path + "': not a valid ONNX model");
  std::vector<std::string> names;
  for (const auto& input : model.graph().input()) {
    bool constant = false;
    for (const auto& initializer : model.graph().initializer()) constant = constant || initializer.name() == input.name();
    if (!constant) names.push_back(input.name());
  }
  return names;
}

Tensor read_onnx_tensor_file(const std::string& path) {
  const std::string bytes = read_file(path);
  onnx::TensorProto proto;
  if (!proto.ParseFromString(bytes)) throw Error("'" + path + "': not a serialized ONNX TensorProto");
  return tensor_from_proto(proto, "'" + path + "'");
}

}  // namespace octet
