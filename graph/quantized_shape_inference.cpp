// Output type rules of Octet's int8 ops. Their qparams live in Graph::quant; these rules check
// that every int8 value an op reads or writes has them, so a quantized graph that loads is one
// the integer kernels can run.
#include "graph/error.hpp"
#include "graph/op_schema.hpp"
#include "graph/window_geometry.hpp"

namespace octet {
namespace {

using Infos = std::vector<ValueInfo>;

void require(const Graph& graph, const Node& node, size_t input, DType dtype, bool needs_quant,
             const Infos& in) {
  if (in[input].dtype != dtype)
    throw Error(node.label() + ": input '" + node.inputs[input] + "' must be " + dtype_name(dtype) +
                ", is " + dtype_name(in[input].dtype));
  if (needs_quant && !graph.quant.count(node.inputs[input]))
    throw Error(node.label() + ": input '" + node.inputs[input] + "' has no quantization parameters");
}

void require_output_quant(const Graph& graph, const Node& node) {
  if (!graph.quant.count(node.outputs[0]))
    throw Error(node.label() + ": output '" + node.outputs[0] + "' has no quantization parameters");
}

void require_per_tensor(const Graph& graph, const Node& node, const std::string& value) {
  const QuantParams& params = graph.quant.at(value);
  if (params.per_channel() || params.scales.size() != 1)
    throw Error(node.label() + ": '" + value + "' must be quantized per tensor");
}

Infos infer_quantize(const Graph& graph, const Node& node, const Infos& in) {
  require(graph, node, 0, DType::f32, false, in);
  require_output_quant(graph, node);
  require_per_tensor(graph, node, node.outputs[0]);
  return {ValueInfo{DType::i8, in[0].shape}};
}

Infos infer_dequantize(const Graph& graph, const Node& node, const Infos& in) {
  require(graph, node, 0, DType::i8, true, in);
  require_per_tensor(graph, node, node.inputs[0]);
  return {ValueInfo{DType::f32, in[0].shape}};
}

// Weight qparams: per tensor, or per output channel (axis 0) with one scale per channel.
// Bias: i32 in the accumulator's scale for static ops, f32 for dynamic ones.
void check_weight_quant(const Graph& graph, const Node& node, int64_t channels, DType bias_dtype) {
  const QuantParams& w = graph.quant.at(node.inputs[1]);
  const size_t expected = w.per_channel() ? static_cast<size_t>(channels) : 1;
  if (w.scales.size() != expected || (w.per_channel() && w.axis != 0))
    throw Error(node.label() + ": weight qparams must be per tensor or per output channel (axis 0)");
  if (node.has_input(2)) {
    const ValueInfo& bias = graph.value_info(node.inputs[2]);
    if (bias.dtype != bias_dtype || bias.shape != Shape{channels})
      throw Error(node.label() + ": bias must be " + dtype_name(bias_dtype) + " with " + std::to_string(channels) +
                  " elements");
  }
}

Infos infer_qconv(const Graph& graph, const Node& node, const Infos& in) {
  const bool dynamic = node.op == "DynQConv";
  require(graph, node, 0, dynamic ? DType::f32 : DType::i8, !dynamic, in);
  require(graph, node, 1, DType::i8, true, in);
  const Shape& x = in[0].shape;
  const Shape& w = in[1].shape;
  if (x.size() != 4 || w.size() != 4) throw Error(node.label() + ": input and weight must be 4-D");
  const int64_t group = node.attrs.get_int("group", 1);
  if (group < 1 || x[1] % group != 0 || w[0] % group != 0 || x[1] / group != w[1])
    throw Error(node.label() + ": channels and group do not match");
  if (!dynamic) require_output_quant(graph, node);
  check_weight_quant(graph, node, w[0], dynamic ? DType::f32 : DType::i32);
  WindowGeometry g = resolve_window_geometry(node, x, {w[2], w[3]}, false);
  return {ValueInfo{dynamic ? DType::f32 : DType::i8, {x[0], w[0], g.output[0], g.output[1]}}};
}

Infos infer_qgemm(const Graph& graph, const Node& node, const Infos& in) {
  const bool dynamic = node.op == "DynQGemm";
  require(graph, node, 0, dynamic ? DType::f32 : DType::i8, !dynamic, in);
  require(graph, node, 1, DType::i8, true, in);
  if (in[0].shape.size() != 2 || in[1].shape.size() != 2 || in[0].shape[1] != in[1].shape[1])
    throw Error(node.label() + ": expects A [M,K] and weight [N,K], got " + shape_str(in[0].shape) +
                " and " + shape_str(in[1].shape));
  if (!dynamic) require_output_quant(graph, node);
  check_weight_quant(graph, node, in[1].shape[0], dynamic ? DType::f32 : DType::i32);
  return {ValueInfo{dynamic ? DType::f32 : DType::i8, {in[0].shape[0], in[1].shape[0]}}};
}

Infos infer_qadd(const Graph& graph, const Node& node, const Infos& in) {
  require(graph, node, 0, DType::i8, true, in);
  require(graph, node, 1, DType::i8, true, in);
  require_output_quant(graph, node);
  for (size_t i = 0; i < 2; ++i) require_per_tensor(graph, node, node.inputs[i]);
  require_per_tensor(graph, node, node.outputs[0]);
  if (in[0].shape != in[1].shape && shape_elements(in[1].shape) != 1)
    throw Error(node.label() + ": int8 Add needs equal shapes (or a scalar second input), got " +
                shape_str(in[0].shape) + " and " + shape_str(in[1].shape));
  return {ValueInfo{DType::i8, in[0].shape}};
}

Infos infer_qpool(const Graph& graph, const Node& node, const Infos& in) {
  require(graph, node, 0, DType::i8, true, in);
  require_output_quant(graph, node);
  if (!(graph.quant.at(node.inputs[0]) == graph.quant.at(node.outputs[0])))
    throw Error(node.label() + ": input and output must share quantization parameters");
  const Shape& x = in[0].shape;
  if (x.size() != 4) throw Error(node.label() + ": input must be NCHW");
  if (node.op == "QGlobalAveragePool") return {ValueInfo{DType::i8, {x[0], x[1], 1, 1}}};
  WindowGeometry g = resolve_window_geometry(node, x, node.attrs.get_ints("kernel_shape"),
                                             node.attrs.get_int("ceil_mode", 0) != 0);
  return {ValueInfo{DType::i8, {x[0], x[1], g.output[0], g.output[1]}}};
}

}  // namespace

const std::vector<OpSchema>& quantized_op_schemas() {
  static const std::vector<std::string> conv_attributes = {
      "auto_pad", "dilations", "group", "kernel_shape", "pads", "strides",
      "activation", "activation_min", "activation_max"};
  static const std::vector<OpSchema> table = {
      {"QuantizeLinear", 1, 1, 1, {}, infer_quantize},
      {"DequantizeLinear", 1, 1, 1, {}, infer_dequantize},
      {"QConv", 2, 3, 1, conv_attributes, infer_qconv},
      {"DynQConv", 2, 3, 1, conv_attributes, infer_qconv},
      {"QGemm", 2, 3, 1, {"activation", "activation_min", "activation_max"}, infer_qgemm},
      {"DynQGemm", 2, 3, 1, {"activation", "activation_min", "activation_max"}, infer_qgemm},
      {"QAdd", 2, 2, 1, {"activation", "activation_min", "activation_max"}, infer_qadd},
      {"QAveragePool", 1, 1, 1, {"auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides"},
       infer_qpool},
      {"QGlobalAveragePool", 1, 1, 1, {}, infer_qpool},
  };
  return table;
}

}  // namespace octet
