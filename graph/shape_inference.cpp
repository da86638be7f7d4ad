// Output type rules of every supported op, and Graph::infer_shapes() which applies them.
#include <algorithm>
#include <map>

#include "graph/error.hpp"
#include "graph/op_schema.hpp"
#include "graph/resize_geometry.hpp"
#include "graph/window_geometry.hpp"

namespace octet {
namespace {

using Infos = std::vector<ValueInfo>;

void require_dtype(const Node& node, const ValueInfo& info, std::initializer_list<DType> allowed,
                   const char* what) {
  for (DType dtype : allowed)
    if (info.dtype == dtype) return;
  throw Error(node.label() + ": " + what + " has unsupported type " + dtype_name(info.dtype));
}

void require_rank(const Node& node, const ValueInfo& info, size_t rank, const char* what) {
  if (info.shape.size() != rank)
    throw Error(node.label() + ": " + what + " must have rank " + std::to_string(rank) + ", got " +
                shape_str(info.shape));
}

// Integer constant input (Reshape's shape, Clip's bounds are floats and read elsewhere).
std::vector<int64_t> constant_ints(const Graph& graph, const Node& node, size_t index) {
  const Tensor* tensor = graph.initializer(node.inputs[index]);
  if (!tensor)
    throw Error(node.label() + ": input '" + node.inputs[index] + "' must be a constant initializer");
  std::vector<int64_t> values(static_cast<size_t>(tensor->elements()));
  for (size_t i = 0; i < values.size(); ++i) {
    if (tensor->dtype() == DType::i64) values[i] = tensor->data<int64_t>()[i];
    else if (tensor->dtype() == DType::i32) values[i] = tensor->data<int32_t>()[i];
    else throw Error(node.label() + ": input '" + node.inputs[index] + "' must hold integers");
  }
  return values;
}

// a * b for dimensions from untrusted files: overflow is an error naming the node, not UB.
int64_t checked_multiply(const Node& node, int64_t a, int64_t b) {
  int64_t product;
  if (__builtin_mul_overflow(a, b, &product)) throw Error(node.label() + ": shape has too many elements");
  return product;
}

Shape broadcast_shapes(const Node& node, const Shape& a, const Shape& b) {
  Shape out(std::max(a.size(), b.size()));
  for (size_t i = 0; i < out.size(); ++i) {
    int64_t da = i < out.size() - a.size() ? 1 : a[i - (out.size() - a.size())];
    int64_t db = i < out.size() - b.size() ? 1 : b[i - (out.size() - b.size())];
    if (da != db && da != 1 && db != 1)
      throw Error(node.label() + ": shapes " + shape_str(a) + " and " + shape_str(b) +
                  " cannot be broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Infos infer_conv(const Graph&, const Node& node, const Infos& in) {
  const ValueInfo& x = in[0];
  const ValueInfo& w = in[1];
  require_dtype(node, x, {DType::f32}, "input");
  require_dtype(node, w, {DType::f32}, "weight");
  if (x.shape.size() != 4)
    throw Error(node.label() + ": only 2-D convolution (NCHW input) is supported, input is " +
                shape_str(x.shape));
  require_rank(node, w, 4, "weight");
  const int64_t group = node.attrs.get_int("group", 1);
  if (group < 1 || x.shape[1] % group != 0 || w.shape[0] % group != 0 || x.shape[1] / group != w.shape[1])
    throw Error(node.label() + ": input channels " + std::to_string(x.shape[1]) + ", weight " +
                shape_str(w.shape) + " and group " + std::to_string(group) + " do not match");
  std::vector<int64_t> kernel = node.attrs.get_ints("kernel_shape", {w.shape[2], w.shape[3]});
  if (kernel != std::vector<int64_t>{w.shape[2], w.shape[3]})
    throw Error(node.label() + ": kernel_shape does not match the weight " + shape_str(w.shape));
  if (in.size() > 2 && !in[2].shape.empty()) {
    if (in[2].shape != Shape{w.shape[0]})
      throw Error(node.label() + ": bias " + shape_str(in[2].shape) + " must have " +
                  std::to_string(w.shape[0]) + " elements");
  }
  WindowGeometry g = resolve_window_geometry(node, x.shape, kernel, false);
  return {ValueInfo{DType::f32, {x.shape[0], w.shape[0], g.output[0], g.output[1]}}};
}

Infos infer_pool(const Graph&, const Node& node, const Infos& in) {
  const ValueInfo& x = in[0];
  if (node.op == "MaxPool") require_dtype(node, x, {DType::f32, DType::u8, DType::i8}, "input");
  else require_dtype(node, x, {DType::f32}, "input");
  if (x.shape.size() != 4)
    throw Error(node.label() + ": only 2-D pooling (NCHW input) is supported, input is " +
                shape_str(x.shape));
  if (!node.attrs.has("kernel_shape")) throw Error(node.label() + ": kernel_shape is required");
  if (node.attrs.get_int("storage_order", 0) != 0)
    throw Error(node.label() + ": storage_order=1 (column-major indices) is not supported");
  WindowGeometry g = resolve_window_geometry(node, x.shape, node.attrs.get_ints("kernel_shape"),
                                             node.attrs.get_int("ceil_mode", 0) != 0);
  return {ValueInfo{x.dtype, {x.shape[0], x.shape[1], g.output[0], g.output[1]}}};
}

// Nearest resize copies elements: an int8 output is the input's codes with the input's qparams.
Infos infer_resize(const Graph& graph, const Node& node, const Infos& in) {
  const ValueInfo& x = in[0];
  require_dtype(node, x, {DType::f32, DType::u8, DType::i8}, "input");
  const ResizeGeometry g = resolve_resize_geometry(node, x.shape);
  const auto input_quant = graph.quant.find(node.inputs[0]);
  if (input_quant != graph.quant.end()) {
    const auto output_quant = graph.quant.find(node.outputs[0]);
    if (output_quant == graph.quant.end() || !(output_quant->second == input_quant->second))
      throw Error(node.label() + ": input and output must share quantization parameters");
  }
  return {ValueInfo{x.dtype, {x.shape[0], x.shape[1], g.output[0], g.output[1]}}};
}

Infos infer_global_average_pool(const Graph&, const Node& node, const Infos& in) {
  require_dtype(node, in[0], {DType::f32}, "input");
  if (in[0].shape.size() < 3) throw Error(node.label() + ": input must be N,C,spatial...");
  Shape out = in[0].shape;
  std::fill(out.begin() + 2, out.end(), 1);
  return {ValueInfo{DType::f32, out}};
}

Infos infer_gemm(const Graph&, const Node& node, const Infos& in) {
  for (const auto& info : in) require_dtype(node, info, {DType::f32}, "input");
  require_rank(node, in[0], 2, "A");
  require_rank(node, in[1], 2, "B");
  const bool trans_a = node.attrs.get_int("transA", 0) != 0;
  const bool trans_b = node.attrs.get_int("transB", 0) != 0;
  const int64_t m = trans_a ? in[0].shape[1] : in[0].shape[0];
  const int64_t k = trans_a ? in[0].shape[0] : in[0].shape[1];
  const int64_t kb = trans_b ? in[1].shape[1] : in[1].shape[0];
  const int64_t n = trans_b ? in[1].shape[0] : in[1].shape[1];
  if (k != kb)
    throw Error(node.label() + ": inner dimensions differ: A " + shape_str(in[0].shape) + ", B " +
                shape_str(in[1].shape));
  if (in.size() > 2 && !in[2].shape.empty()) {
    // C must broadcast to [M, N] without growing it.
    Shape broadcast = broadcast_shapes(node, {m, n}, in[2].shape);
    if (broadcast != Shape{m, n})
      throw Error(node.label() + ": bias " + shape_str(in[2].shape) + " does not broadcast to " +
                  shape_str({m, n}));
  }
  return {ValueInfo{DType::f32, {m, n}}};
}

Infos infer_matmul(const Graph&, const Node& node, const Infos& in) {
  for (const auto& info : in) require_dtype(node, info, {DType::f32}, "input");
  const Shape& a = in[0].shape;
  const Shape& b = in[1].shape;
  if (a.size() < 2 || b.size() < 2)
    throw Error(node.label() + ": MatMul of 1-D operands is not supported");
  if (a.back() != b[b.size() - 2])
    throw Error(node.label() + ": inner dimensions differ: " + shape_str(a) + " x " + shape_str(b));
  Shape batch_a(a.begin(), a.end() - 2), batch_b(b.begin(), b.end() - 2);
  Shape out = broadcast_shapes(node, batch_a, batch_b);
  out.push_back(a[a.size() - 2]);
  out.push_back(b.back());
  return {ValueInfo{DType::f32, out}};
}

Infos infer_add(const Graph&, const Node& node, const Infos& in) {
  require_dtype(node, in[0], {DType::f32}, "first input");
  require_dtype(node, in[1], {DType::f32}, "second input");
  return {ValueInfo{DType::f32, broadcast_shapes(node, in[0].shape, in[1].shape)}};
}

Infos infer_same_float(const Graph&, const Node& node, const Infos& in) {
  require_dtype(node, in[0], {DType::f32}, "input");
  return {in[0]};
}

Infos infer_passthrough(const Graph&, const Node& node, const Infos& in) {
  if (node.op == "Dropout" && node.outputs.size() > 1 && !node.outputs[1].empty())
    throw Error(node.label() + ": the Dropout mask output is not supported");
  return {in[0]};
}

Infos infer_clip(const Graph& graph, const Node& node, const Infos& in) {
  for (size_t i = 1; i < node.inputs.size(); ++i)
    if (!node.inputs[i].empty() && !graph.is_initializer(node.inputs[i]))
      throw Error(node.label() + ": min/max must be constant initializers");
  return infer_same_float(graph, node, in);
}

Infos infer_batchnorm(const Graph&, const Node& node, const Infos& in) {
  for (const auto& info : in) require_dtype(node, info, {DType::f32}, "input");
  if (in[0].shape.size() < 2) throw Error(node.label() + ": input must be N,C,...");
  const int64_t channels = in[0].shape[1];
  for (size_t i = 1; i < 5; ++i)
    if (in[i].shape != Shape{channels})
      throw Error(node.label() + ": parameter '" + node.inputs[i] + "' must have " +
                  std::to_string(channels) + " elements, has shape " + shape_str(in[i].shape));
  if (node.attrs.get_int("training_mode", 0) != 0)
    throw Error(node.label() + ": training_mode=1 is not supported (inference only)");
  if (node.attrs.get_int("spatial", 1) != 1)
    throw Error(node.label() + ": spatial=0 is not supported");
  if (node.outputs.size() > 1)
    for (size_t i = 1; i < node.outputs.size(); ++i)
      if (!node.outputs[i].empty())
        throw Error(node.label() + ": training outputs (running mean/var) are not supported");
  return {in[0]};
}

int64_t normalized_axis(const Node& node, int64_t axis, size_t rank, bool allow_rank) {
  const int64_t r = static_cast<int64_t>(rank);
  if (axis < 0) axis += r;
  if (axis < 0 || axis > r || (!allow_rank && axis == r))
    throw Error(node.label() + ": axis " + std::to_string(axis) + " is out of range for rank " +
                std::to_string(rank));
  return axis;
}

Infos infer_flatten(const Graph&, const Node& node, const Infos& in) {
  const Shape& x = in[0].shape;
  const int64_t axis = normalized_axis(node, node.attrs.get_int("axis", 1), x.size(), true);
  int64_t outer = 1, inner = 1;
  for (size_t i = 0; i < x.size(); ++i) {
    int64_t& part = static_cast<int64_t>(i) < axis ? outer : inner;
    part = checked_multiply(node, part, x[i]);
  }
  return {ValueInfo{in[0].dtype, {outer, inner}}};
}

Infos infer_reshape(const Graph& graph, const Node& node, const Infos& in) {
  const Shape& x = in[0].shape;
  std::vector<int64_t> target = constant_ints(graph, node, 1);
  const bool allow_zero = node.attrs.get_int("allowzero", 0) != 0;
  Shape out(target.size());
  int infer_at = -1;
  int64_t known = 1;
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i] == -1) {
      if (infer_at >= 0) throw Error(node.label() + ": more than one -1 in the target shape");
      infer_at = static_cast<int>(i);
      continue;
    }
    if (target[i] < -1) throw Error(node.label() + ": invalid target dimension " + std::to_string(target[i]));
    if (target[i] == 0 && !allow_zero) {
      if (i >= x.size()) throw Error(node.label() + ": 0 copies a dimension the input does not have");
      out[i] = x[i];
    } else {
      out[i] = target[i];
    }
    known = checked_multiply(node, known, out[i]);
  }
  const int64_t total = shape_elements(x);
  if (infer_at >= 0) {
    if (known == 0 || total % known != 0)
      throw Error(node.label() + ": cannot infer -1 reshaping " + shape_str(x));
    out[static_cast<size_t>(infer_at)] = total / known;
  }
  if (shape_elements(out) != total)
    throw Error(node.label() + ": cannot reshape " + shape_str(x) + " (" + std::to_string(total) +
                " elements) to " + shape_str(out));
  return {ValueInfo{in[0].dtype, out}};
}

Infos infer_transpose(const Graph&, const Node& node, const Infos& in) {
  const Shape& x = in[0].shape;
  std::vector<int64_t> perm = node.attrs.get_ints("perm");
  if (perm.empty())
    for (size_t i = 0; i < x.size(); ++i) perm.push_back(static_cast<int64_t>(x.size() - 1 - i));
  if (perm.size() != x.size()) throw Error(node.label() + ": perm does not match the input rank");
  std::vector<bool> seen(x.size(), false);
  Shape out(x.size());
  for (size_t i = 0; i < perm.size(); ++i) {
    if (perm[i] < 0 || perm[i] >= static_cast<int64_t>(x.size()) || seen[static_cast<size_t>(perm[i])])
      throw Error(node.label() + ": perm is not a permutation");
    seen[static_cast<size_t>(perm[i])] = true;
    out[i] = x[static_cast<size_t>(perm[i])];
  }
  return {ValueInfo{in[0].dtype, out}};
}

Infos infer_softmax(const Graph& graph, const Node& node, const Infos& in) {
  normalized_axis(node, node.attrs.get_int("axis", -1), in[0].shape.size(), false);
  return infer_same_float(graph, node, in);
}

const std::vector<OpSchema>& schemas() {
  static const std::vector<OpSchema> table = {
      {"Conv", 2, 3, 1, {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides",
                         "activation", "activation_min", "activation_max"}, infer_conv},
      {"Gemm", 2, 3, 1, {"alpha", "beta", "transA", "transB", "broadcast",
                         "activation", "activation_min", "activation_max"}, infer_gemm},
      {"MatMul", 2, 2, 1, {}, infer_matmul},
      {"Add", 2, 2, 1, {"activation", "activation_min", "activation_max"}, infer_add},
      {"Relu", 1, 1, 1, {}, infer_same_float},
      {"Clip", 1, 3, 1, {"min", "max"}, infer_clip},
      {"MaxPool", 1, 1, 1, {"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads",
                            "storage_order", "strides"}, infer_pool},
      {"AveragePool", 1, 1, 1, {"auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads",
                                "strides"}, infer_pool},
      {"GlobalAveragePool", 1, 1, 1, {}, infer_global_average_pool},
      {"Flatten", 1, 1, 1, {"axis"}, infer_flatten},
      {"Reshape", 2, 2, 1, {"allowzero"}, infer_reshape},
      {"Transpose", 1, 1, 1, {"perm"}, infer_transpose},
      {"BatchNormalization", 5, 5, 5, {"epsilon", "momentum", "is_test", "spatial", "training_mode"},
       infer_batchnorm},
      {"Identity", 1, 1, 1, {}, infer_passthrough},
      {"Dropout", 1, 3, 2, {"ratio", "seed", "is_test"}, infer_passthrough},
      {"Softmax", 1, 1, 1, {"axis", "coerce_2d"}, infer_softmax},
      // ONNX Resize/Upsample with their constant scales/sizes inputs as attributes (resize_geometry.hpp).
      {"Resize", 1, 1, 1, {"mode", "coordinate_transformation_mode", "nearest_mode", "scales", "sizes"},
       infer_resize},
  };
  return table;
}

}  // namespace

const OpSchema* find_op_schema(const std::string& op) {
  for (const auto& schema : schemas())
    if (schema.op == op) return &schema;
  for (const auto& schema : quantized_op_schemas())
    if (schema.op == op) return &schema;
  return nullptr;
}

std::vector<std::string> supported_ops() {
  std::vector<std::string> names;
  for (const auto& schema : schemas()) names.push_back(schema.op);
  return names;
}

void Graph::infer_shapes() {
  validate();
  for (const auto& input : inputs)
    if (!values.count(input)) throw Error("graph input '" + input + "' has no declared type and shape");
  for (const auto& entry : initializers)
    values[entry.first] = ValueInfo{entry.second.dtype(), entry.second.shape()};
  for (const Node& node : nodes) {
    const OpSchema* schema = find_op_schema(node.op);
    if (!schema) throw Error("unsupported op " + node.label());
    size_t present = node.inputs.size();
    if (present < schema->min_inputs || present > schema->max_inputs)
      throw Error(node.label() + " has " + std::to_string(present) + " inputs, expected " +
                  std::to_string(schema->min_inputs) + ".." + std::to_string(schema->max_inputs));
    for (size_t i = 0; i < schema->min_inputs; ++i)
      if (node.inputs[i].empty()) throw Error(node.label() + ": required input " + std::to_string(i) + " is missing");
    if (node.outputs.size() > schema->max_outputs)
      throw Error(node.label() + " has " + std::to_string(node.outputs.size()) + " outputs, expected at most " +
                  std::to_string(schema->max_outputs));
    std::vector<ValueInfo> in;
    for (const auto& input : node.inputs) in.push_back(input.empty() ? ValueInfo{} : value_info(input));
    std::vector<ValueInfo> out = schema->infer(*this, node, in);
    for (size_t i = 0; i < out.size() && i < node.outputs.size(); ++i)
      if (!node.outputs[i].empty()) values[node.outputs[i]] = out[i];
  }
}

}  // namespace octet
