#include "graph/onnx/onnx_export.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <onnx/onnx_pb.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <set>

#include "graph/error.hpp"

namespace octet {
namespace {

constexpr int kExportOpset = 13;
constexpr int kExportIrVersion = 7;

int32_t onnx_type(DType dtype) {
  switch (dtype) {
    case DType::f32: return onnx::TensorProto::FLOAT;
    case DType::i8: return onnx::TensorProto::INT8;
    case DType::u8: return onnx::TensorProto::UINT8;
    case DType::i32: return onnx::TensorProto::INT32;
    case DType::i64: return onnx::TensorProto::INT64;
  }
  throw Error("unknown dtype");
}

void set_raw(onnx::TensorProto& proto, const void* data, size_t bytes) {
  proto.set_raw_data(std::string(static_cast<const char*>(data), bytes));  // little-endian hosts only
}

void set_tensor(onnx::TensorProto& proto, const std::string& name, const Tensor& tensor) {
  proto.set_name(name);
  proto.set_data_type(onnx_type(tensor.dtype()));
  for (int64_t dim : tensor.shape()) proto.add_dims(dim);
  if (tensor.bytes()) set_raw(proto, tensor.raw(), tensor.bytes());
}

void set_attribute(onnx::AttributeProto& attr, const std::string& name, const AttributeValue& value) {
  attr.set_name(name);
  if (const auto* i = std::get_if<int64_t>(&value)) {
    attr.set_type(onnx::AttributeProto::INT);
    attr.set_i(*i);
  } else if (const auto* f = std::get_if<float>(&value)) {
    attr.set_type(onnx::AttributeProto::FLOAT);
    attr.set_f(*f);
  } else if (const auto* s = std::get_if<std::string>(&value)) {
    attr.set_type(onnx::AttributeProto::STRING);
    attr.set_s(*s);
  } else if (const auto* is = std::get_if<std::vector<int64_t>>(&value)) {
    attr.set_type(onnx::AttributeProto::INTS);
    for (int64_t v : *is) attr.add_ints(v);
  } else if (const auto* fs = std::get_if<std::vector<float>>(&value)) {
    attr.set_type(onnx::AttributeProto::FLOATS);
    for (float v : *fs) attr.add_floats(v);
  }
}

bool is_activation_attribute(const std::string& name) { return name.rfind("activation", 0) == 0; }

class QdqExporter {
 public:
  QdqExporter(const Graph& graph, const QdqExportOptions& options)
      : g_(graph), u8_(options.activations == QdqActivationType::u8), type_name_(qdq_activation_type_name(options.activations)) {}

  onnx::ModelProto run() {
    check_exportable();
    for (const auto& input : g_.inputs) used_values_.insert(input);
    for (const auto& output : g_.outputs) used_values_.insert(output);
    for (const auto& entry : g_.initializers) used_values_.insert(entry.first);
    for (const Node& node : g_.nodes) {
      for (const auto& output : node.outputs) used_values_.insert(output);
      reserved_nodes_.insert(node.name);
    }

    model_.set_ir_version(kExportIrVersion);
    model_.set_producer_name("octet");
    model_.set_producer_version("0.1.0");
    model_.set_doc_string("QDQ export of an Octet int8 model (" + type_name_ + " activations, int8 weights)");
    auto* opset = model_.add_opset_import();
    opset->set_domain("");
    opset->set_version(kExportOpset);
    for (const auto& entry : g_.metadata) add_metadata(entry.first, entry.second);
    add_metadata("octet.export.format", "onnx-qdq");
    add_metadata("octet.export.activations", type_name_);

    out_ = model_.mutable_graph();
    out_->set_name(g_.name.empty() ? "octet" : g_.name);
    for (const auto& input : g_.inputs) add_value_info(out_->add_input(), input);
    for (const auto& output : g_.outputs) add_value_info(out_->add_output(), output);
    for (const auto& entry : g_.initializers) set_tensor(*out_->add_initializer(), entry.first, entry.second);
    for (const Node& node : g_.nodes) export_node(node);
    return std::move(model_);
  }

 private:
  // ---- checks --------------------------------------------------------------------------------

  bool is_int8(const std::string& value) const {
    return !value.empty() && g_.value_info(value).dtype == DType::i8;
  }

  void check_exportable() const {
    bool quantized = false;
    for (const Node& node : g_.nodes) {
      if (node.op == "DynQConv" || node.op == "DynQGemm")
        throw Error(node.label() + ": dynamically quantized models (activations quantized at run time) have no "
                    "QDQ form; quantize with --mode static");
      if (node.op == "QuantizeLinear" || node.op == "QConv" || node.op == "QGemm" || node.op == "QAdd")
        quantized = true;
    }
    if (!quantized)
      throw Error("the model is not quantized (fp32): run 'octet quantize' first, QDQ export needs an int8 model");
    for (const auto& input : g_.inputs)
      if (g_.value_info(input).dtype != DType::f32)
        throw Error("graph input '" + input + "' is " + dtype_name(g_.value_info(input).dtype) +
                    ": QDQ export supports float inputs only");
  }

  // ---- names ---------------------------------------------------------------------------------

  std::string unique_value(const std::string& base) {
    std::string name = base;
    for (int i = 1; used_values_.count(name); ++i) name = base + "." + std::to_string(i);
    used_values_.insert(name);
    return name;
  }

  // A node keeps its Octet name (`own`) unless an earlier node took it; generated names avoid
  // every Octet name.
  std::string unique_node(const std::string& base, bool own) {
    std::string name = base;
    for (int i = 1; used_nodes_.count(name) || (!own && reserved_nodes_.count(name)); ++i)
      name = base + "." + std::to_string(i);
    used_nodes_.insert(name);
    return name;
  }

  // ---- building blocks -----------------------------------------------------------------------

  void add_metadata(const std::string& key, const std::string& value) {
    auto* prop = model_.add_metadata_props();
    prop->set_key(key);
    prop->set_value(value);
  }

  void add_value_info(onnx::ValueInfoProto* info, const std::string& value) {
    const ValueInfo& v = g_.value_info(value);
    info->set_name(value);
    auto* type = info->mutable_type()->mutable_tensor_type();
    type->set_elem_type(v.dtype == DType::i8 && u8_ ? onnx::TensorProto::UINT8 : onnx_type(v.dtype));
    auto* shape = type->mutable_shape();
    for (int64_t dim : v.shape) shape->add_dim()->set_dim_value(dim);
  }

  // `name` is an Octet node's own name when `own`, else a generated one.
  onnx::NodeProto* add_node(const std::string& op, const std::string& name, const std::vector<std::string>& inputs,
                            const std::vector<std::string>& outputs, bool own = false) {
    auto* node = out_->add_node();
    node->set_op_type(op);
    node->set_name(unique_node(name, own));
    for (const auto& input : inputs) node->add_input(input);
    for (const auto& output : outputs) node->add_output(output);
    return node;
  }

  // Scalar or 1-D constant, added once under a fresh name.
  template <class T>
  std::string add_constant(const std::string& base, DType dtype, const std::vector<T>& values, bool scalar) {
    const std::string name = unique_value(base);
    auto* proto = out_->add_initializer();
    proto->set_name(name);
    proto->set_data_type(onnx_type(dtype));
    if (!scalar) proto->add_dims(static_cast<int64_t>(values.size()));
    set_raw(*proto, values.data(), values.size() * sizeof(T));
    return name;
  }

  struct QParamNames {
    std::string scale, zero_point;
    int32_t axis = -1;
  };

  const QuantParams& quant_of(const std::string& value) const {
    auto found = g_.quant.find(value);
    if (found == g_.quant.end()) throw Error("int8 value '" + value + "' has no quantization parameters");
    return found->second;
  }

  // Activation qparams: per tensor, zero point shifted by 128 in uint8 mode.
  const QParamNames& activation_qparams(const std::string& value) {
    auto cached = qparams_.find(value);
    if (cached != qparams_.end()) return cached->second;
    const QuantParams& q = quant_of(value);
    if (q.per_channel() || q.scales.size() != 1 || q.zero_points.size() != 1)
      throw Error("activation '" + value + "' is quantized per channel: QDQ export needs per-tensor activations");
    QParamNames names;
    names.scale = add_constant(value + "_scale", DType::f32, std::vector<float>{q.scales[0]}, true);
    const int32_t zp = q.zero_points[0];
    if (zp < -128 || zp > 127) throw Error("activation '" + value + "' has zero point " + std::to_string(zp) + " outside int8");
    if (u8_)
      names.zero_point = add_constant(value + "_zero_point", DType::u8, std::vector<uint8_t>{static_cast<uint8_t>(zp + 128)}, true);
    else
      names.zero_point = add_constant(value + "_zero_point", DType::i8, std::vector<int8_t>{static_cast<int8_t>(zp)}, true);
    return qparams_.emplace(value, names).first->second;
  }

  // Weight qparams: int8 symmetric, per tensor or per output channel (axis 0).
  const QParamNames& weight_qparams(const Node& node, const std::string& weight, int64_t channels) {
    auto cached = qparams_.find(weight);
    if (cached != qparams_.end()) return cached->second;
    const QuantParams& q = quant_of(weight);
    const bool per_channel = q.per_channel();
    if ((per_channel && (q.axis != 0 || q.scales.size() != static_cast<size_t>(channels))) ||
        (!per_channel && q.scales.size() != 1) || q.zero_points.size() != q.scales.size())
      throw Error(node.label() + ": weight '" + weight + "' must be quantized per tensor or per output channel");
    QParamNames names;
    names.axis = per_channel ? 0 : -1;
    std::vector<int8_t> zero_points;
    for (int32_t zp : q.zero_points) zero_points.push_back(static_cast<int8_t>(zp));
    names.scale = add_constant(weight + "_scale", DType::f32, q.scales, !per_channel);
    names.zero_point = add_constant(weight + "_zero_point", DType::i8, zero_points, !per_channel);
    return qparams_.emplace(weight, names).first->second;
  }

  // Bias qparams: int32, scale s_x * s_w[c] (the accumulator's), zero point 0.
  QParamNames bias_qparams(const std::string& bias, const std::string& input, const std::string& weight) {
    const QuantParams& x = quant_of(input);
    const QuantParams& w = quant_of(weight);
    std::vector<float> scales;
    for (float s : w.scales) scales.push_back(x.scales[0] * s);
    QParamNames names;
    names.axis = w.per_channel() ? 0 : -1;
    names.scale = add_constant(bias + "_scale", DType::f32, scales, !w.per_channel());
    names.zero_point = add_constant(bias + "_zero_point", DType::i32, std::vector<int32_t>(scales.size(), 0),
                                    !w.per_channel());
    return names;
  }

  std::string dequantize(const std::string& value, const QParamNames& q, const std::string& node_name) {
    const std::string output = unique_value(value + "_dq");
    auto* node = add_node("DequantizeLinear", node_name + "/DequantizeLinear", {value, q.scale, q.zero_point}, {output});
    if (q.axis >= 0) set_attribute(*node->add_attribute(), "axis", int64_t{q.axis});
    return output;
  }

  void quantize(const std::string& input, const std::string& output, const std::string& node_name, bool own = false) {
    const QParamNames& q = activation_qparams(output);
    add_node("QuantizeLinear", node_name, {input, q.scale, q.zero_point}, {output}, own);
  }

  // Relu or Clip after a node with a fused activation, writing `output`.
  void emit_activation(const Node& node, const std::string& input, const std::string& output) {
    const std::string kind = node.attrs.get_string("activation", "");
    const float low = node.attrs.get_float("activation_min", kind == "Relu" ? 0.0f : -std::numeric_limits<float>::infinity());
    const float high = node.attrs.get_float("activation_max", std::numeric_limits<float>::infinity());
    if (kind == "Relu" && low == 0.0f && std::isinf(high)) {
      add_node("Relu", node.name + "/Relu", {input}, {output});
      return;
    }
    if (kind != "Relu" && kind != "Clip") throw Error(node.label() + ": unknown fused activation '" + kind + "'");
    std::vector<std::string> inputs = {input, "", ""};
    if (std::isfinite(low)) inputs[1] = add_constant(node.name + "_clip_min", DType::f32, std::vector<float>{low}, true);
    if (std::isfinite(high)) inputs[2] = add_constant(node.name + "_clip_max", DType::f32, std::vector<float>{high}, true);
    while (!inputs.empty() && inputs.back().empty()) inputs.pop_back();
    add_node("Clip", node.name + "/Clip", inputs, {output});
  }

  void copy_attributes(const Node& from, onnx::NodeProto& to, const std::set<std::string>& skip = {}) {
    for (const auto& entry : from.attrs.all())
      if (!is_activation_attribute(entry.first) && !skip.count(entry.first))
        set_attribute(*to.add_attribute(), entry.first, entry.second);
  }

  // ---- nodes ---------------------------------------------------------------------------------

  void export_node(const Node& node) {
    if (node.op == "QuantizeLinear") {
      quantize(node.inputs[0], node.outputs[0], node.name, true);
    } else if (node.op == "DequantizeLinear") {
      const QParamNames& q = activation_qparams(node.inputs[0]);
      add_node("DequantizeLinear", node.name, {node.inputs[0], q.scale, q.zero_point}, {node.outputs[0]}, true);
    } else if (node.op == "QConv" || node.op == "QGemm") {
      export_weighted(node);
    } else if (node.op == "QAdd" || node.op == "QAveragePool" || node.op == "QGlobalAveragePool") {
      export_int8(node, node.op.substr(1));
    } else if ((node.op == "MaxPool" || node.op == "Flatten" || node.op == "Reshape" || node.op == "Resize") &&
               is_int8(node.inputs[0])) {
      export_int8(node, node.op);
    } else {
      export_float(node);
    }
  }

  // DQ(x) → Conv/Gemm(DQ(w), DQ(b)) → [Relu/Clip] → Q(y).
  void export_weighted(const Node& node) {
    const bool conv = node.op == "QConv";
    const std::string& x = node.inputs[0];
    const std::string& w = node.inputs[1];
    const int64_t channels = g_.value_info(w).shape.at(0);
    std::vector<std::string> inputs = {dequantize(x, activation_qparams(x), node.name),
                                       dequantize(w, weight_qparams(node, w, channels), node.name)};
    if (node.has_input(2)) inputs.push_back(dequantize(node.inputs[2], bias_qparams(node.inputs[2], x, w), node.name));
    finish_op(node, conv ? "Conv" : "Gemm", inputs);
  }

  // DQ on the int8 inputs → float op → [Relu/Clip] → Q. Constant inputs (Reshape's shape) pass.
  void export_int8(const Node& node, const std::string& float_op) {
    std::vector<std::string> inputs;
    for (const auto& input : node.inputs) {
      if (is_int8(input) && !g_.is_initializer(input))
        inputs.push_back(dequantize(input, activation_qparams(input), node.name));
      else
        inputs.push_back(input);
    }
    if (node.op == "Resize") inputs = resize_inputs(node, inputs[0]);
    finish_op(node, float_op, inputs);
  }

  // Octet's Resize holds ONNX's constant scales/sizes inputs as attributes; opset 13 takes them
  // as inputs again (X, roi, scales, sizes).
  std::vector<std::string> resize_inputs(const Node& node, const std::string& x) {
    if (node.attrs.has("scales"))
      return {x, "", add_constant(node.name + "_scales", DType::f32, node.attrs.get_floats("scales"), false)};
    return {x, "", "", add_constant(node.name + "_sizes", DType::i64, node.attrs.get_ints("sizes"), false)};
  }

  void finish_op(const Node& node, const std::string& float_op, const std::vector<std::string>& inputs) {
    const std::string& output = node.outputs[0];
    std::string value = unique_value(output + "_float");
    auto* proto = add_node(float_op, node.name, inputs, {value}, true);
    copy_attributes(node, *proto, {"scales", "sizes"});  // Resize's, inputs in ONNX
    if (float_op == "Gemm") set_attribute(*proto->add_attribute(), "transB", int64_t{1});
    if (node.attrs.has("activation")) {
      const std::string activated = unique_value(output + "_act");
      emit_activation(node, value, activated);
      value = activated;
    }
    quantize(value, output, node.name + "/QuantizeLinear");
  }

  // Float nodes of a partly quantized graph, brought to opset 13 where their form changed.
  void export_float(const Node& node) {
    for (const auto& input : node.inputs)
      if (is_int8(input) && !g_.is_initializer(input))
        throw Error(node.label() + ": float op reads int8 value '" + input + "' (no QDQ form)");
    std::set<std::string> skip = {"coerce_2d"};
    std::vector<std::string> inputs = node.inputs;
    if (node.op == "Softmax" && node.attrs.get_int("coerce_2d", 0) != 0) {
      const int64_t rank = static_cast<int64_t>(g_.value_info(node.inputs[0]).shape.size());
      int64_t axis = node.attrs.get_int("axis", 1);
      if (axis < 0) axis += rank;
      if (axis != rank - 1)
        throw Error(node.label() + ": opset < 13 Softmax over axis " + std::to_string(axis) +
                    " of a rank-" + std::to_string(rank) + " tensor has no opset-13 form");
    }
    if (node.op == "Clip") {
      skip.insert({"min", "max"});
      inputs.resize(3);
      for (int i = 0; i < 2; ++i) {
        const char* bound = i == 0 ? "min" : "max";
        if (node.attrs.has(bound))
          inputs[static_cast<size_t>(i + 1)] =
              add_constant(node.name + "_clip_" + bound, DType::f32, std::vector<float>{node.attrs.get_float(bound, 0.0f)}, true);
      }
      while (inputs.size() > 1 && inputs.back().empty()) inputs.pop_back();
    }
    if (node.op == "Dropout") skip.insert({"ratio", "is_test"});  // inference: identity
    if (node.op == "Gemm") skip.insert("broadcast");
    if (node.op == "Resize") {
      inputs = resize_inputs(node, inputs[0]);
      skip.insert({"scales", "sizes"});
    }
    if (node.op == "BatchNormalization") {
      if (node.attrs.get_int("spatial", 1) != 1 || node.attrs.get_int("training_mode", 0) != 0)
        throw Error(node.label() + ": only inference, spatial BatchNormalization can be exported");
      skip.insert({"spatial", "is_test", "training_mode"});
    }
    std::vector<std::string> outputs = node.outputs;
    const bool fused = node.attrs.has("activation");
    if (fused) outputs[0] = unique_value(node.outputs[0] + "_float");
    auto* proto = add_node(node.op, node.name, inputs, outputs, true);
    copy_attributes(node, *proto, skip);
    if (fused) emit_activation(node, outputs[0], node.outputs[0]);
  }

  const Graph& g_;
  bool u8_;
  std::string type_name_;
  onnx::ModelProto model_;
  onnx::GraphProto* out_ = nullptr;
  std::set<std::string> used_values_, used_nodes_, reserved_nodes_;
  std::map<std::string, QParamNames> qparams_;
};

std::string errno_text(int error) { return std::strerror(error); }

}  // namespace

const char* qdq_activation_type_name(QdqActivationType type) {
  return type == QdqActivationType::u8 ? "u8" : "s8";
}

std::string export_onnx_qdq_bytes(const Graph& int8_graph, const QdqExportOptions& options) {
  const onnx::ModelProto model = QdqExporter(int8_graph, options).run();
  std::string bytes;
  if (!model.SerializeToString(&bytes)) throw Error("cannot serialize the ONNX model (larger than 2 GiB?)");
  return bytes;
}

void export_onnx_qdq(const Graph& int8_graph, const std::string& path, const QdqExportOptions& options) {
  const std::string bytes = export_onnx_qdq_bytes(int8_graph, options);  // refuses before touching the disk
  static std::atomic<unsigned> counter{0};
  std::string temp;
  int fd = -1;
  for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
    temp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
    fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) throw Error(path + ": cannot create the ONNX file: " + errno_text(errno));
  }
  if (fd < 0) throw Error(path + ": cannot create a temporary file next to it");
  auto abandon = [&](const std::string& what, int error) {
    if (fd >= 0) ::close(fd);
    ::unlink(temp.c_str());
    throw Error(path + ": " + what + ": " + errno_text(error));
  };
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) abandon("cannot write the ONNX file", n < 0 ? errno : EIO);
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) abandon("cannot flush the ONNX file", errno);
  const int closed = ::close(fd);
  fd = -1;
  if (closed != 0) abandon("cannot write the ONNX file", errno);
  if (::rename(temp.c_str(), path.c_str()) != 0) abandon("cannot replace the ONNX file", errno);
}

}  // namespace octet
