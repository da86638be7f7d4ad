#include "quant/quantize_pass.hpp"

#include <algorithm>
#include <limits>
#include <set>

#include "graph/error.hpp"
#include "kernels/ref/elementwise_f32_ref.hpp"
#include "quant/qparams.hpp"
#include "quant/quantizer.hpp"

namespace octet::quant {
namespace {

// The int8 copy of value `v` is named v + kInt8Suffix; float values keep their names, so graph
// inputs and outputs are unchanged for the user.
const char* const kInt8Suffix = ".q";

enum class Role { keep_float, compute, passthrough };

bool has_constant_inputs(const Graph& graph, const Node& node, std::initializer_list<size_t> indices) {
  for (size_t i : indices)
    if (node.has_input(i) && !graph.is_initializer(node.inputs[i])) return false;
  return true;
}

// What the node becomes, and why not int8 when it stays float.
Role classify(const Graph& graph, const Node& node, const QuantizeOptions& options, std::string& reason) {
  if (std::find(options.keep_float.begin(), options.keep_float.end(), node.name) != options.keep_float.end()) {
    reason = "kept in fp32 on request";
    return Role::keep_float;
  }
  if (node.op == "Conv") {
    if (!has_constant_inputs(graph, node, {1, 2})) { reason = "weights are not constant"; return Role::keep_float; }
    return Role::compute;
  }
  if (node.op == "Gemm") {
    if (!has_constant_inputs(graph, node, {1, 2})) { reason = "weights are not constant"; return Role::keep_float; }
    if (node.attrs.get_int("transA", 0) != 0) { reason = "transA=1 has no int8 kernel"; return Role::keep_float; }
    if (node.has_input(2)) {
      const Shape& c = graph.value_info(node.inputs[2]).shape;
      const int64_t n = graph.value_info(node.outputs[0]).shape[1];
      const bool per_column = shape_elements(c) == n && (c.size() == 1 || (c.size() == 2 && c[0] == 1));
      if (!per_column) { reason = "bias is not one value per output column"; return Role::keep_float; }
    }
    return Role::compute;
  }
  if (node.op == "Add") {
    const Shape& a = graph.value_info(node.inputs[0]).shape;
    const Shape& b = graph.value_info(node.inputs[1]).shape;
    if (graph.is_initializer(node.inputs[0]) || graph.is_initializer(node.inputs[1])) {
      reason = "adds a constant (no int8 form)";
      return Role::keep_float;
    }
    if (a != b) { reason = "broadcasting Add has no int8 kernel"; return Role::keep_float; }
    return Role::compute;
  }
  if (node.op == "MaxPool" || node.op == "Flatten" || node.op == "Reshape" || node.op == "AveragePool" ||
      node.op == "GlobalAveragePool" || node.op == "Resize")  // Resize is nearest only: it copies codes
    return Role::passthrough;
  reason = "no int8 kernel for " + node.op;
  return Role::keep_float;
}

// Attributes whose value is the ONNX default (exporters write them anyway) say nothing; dropping
// them keeps the .oct graph section small beside the int8 weights.
void drop_default_attributes(Node& node, const Shape& weight_shape) {
  auto all_equal = [&](const char* name, int64_t value) {
    if (!node.attrs.has(name)) return;
    const std::vector<int64_t> values = node.attrs.get_ints(name);
    if (std::all_of(values.begin(), values.end(), [&](int64_t v) { return v == value; })) node.attrs.erase(name);
  };
  all_equal("dilations", 1);
  all_equal("strides", 1);
  all_equal("pads", 0);
  if (node.attrs.get_int("group", 1) == 1) node.attrs.erase("group");
  if (node.attrs.get_string("auto_pad", "NOTSET") == "NOTSET") node.attrs.erase("auto_pad");
  if (weight_shape.size() == 4 && node.attrs.has("kernel_shape") &&
      node.attrs.get_ints("kernel_shape") == std::vector<int64_t>{weight_shape[2], weight_shape[3]})
    node.attrs.erase("kernel_shape");
}

// A Conv's or Gemm's float weights as [output channels][reduction] rows: Conv's OIHW as it is,
// Gemm's B transposed to [N, K] when transB = 0 and scaled by alpha.
struct WeightRows {
  std::vector<float> values;
  Shape shape;
};
WeightRows weight_rows(const Node& node, const Tensor& weight) {
  WeightRows rows{std::vector<float>(weight.data<float>(), weight.data<float>() + weight.elements()), weight.shape()};
  if (node.op != "Gemm") return rows;
  if (node.attrs.get_int("transB", 0) == 0) {
    const int64_t dims[2] = {rows.shape[0], rows.shape[1]}, perm[2] = {1, 0};
    std::vector<float> transposed(rows.values.size());
    kernels::transpose_ref(2, dims, perm, sizeof(float), rows.values.data(), transposed.data());
    rows.values.swap(transposed);
    rows.shape = {rows.shape[1], rows.shape[0]};
  }
  const float alpha = node.attrs.get_float("alpha", 1.0f);
  for (float& v : rows.values) v *= alpha;
  return rows;
}

// Gemm's layout attributes no longer apply once the weights are [N, K] rows.
void erase_gemm_layout_attributes(Node& node) {
  for (const char* attribute : {"transA", "transB", "alpha", "beta", "broadcast"}) node.attrs.erase(attribute);
}

class StaticQuantizer {
 public:
  StaticQuantizer(const Graph& source, const RangeProvider& ranges, const QuantizeOptions& options,
                  QuantizeReport& report)
      : source_(source), ranges_(ranges), options_(options), report_(report) {
    out_.name = source.name;
    out_.inputs = source.inputs;
    out_.outputs = source.outputs;
    out_.metadata = source.metadata;
    for (const auto& input : source.inputs) out_.values[input] = source.value_info(input);
  }

  Graph run() {
    for (const Node& node : source_.nodes) {
      std::string reason;
      const Role role = classify(source_, node, options_, reason);
      if (role == Role::keep_float) {
        emit_float(node);
        report_.float_node_reasons.push_back(node.label() + ": " + reason);
        ++report_.float_nodes;
      } else {
        if (role == Role::compute) emit_compute(node);
        else emit_passthrough(node);
        ++report_.quantized_nodes;
      }
    }
    for (const auto& output : source_.outputs) float_version(output);
    out_.infer_shapes();
    out_.remove_unused();
    return std::move(out_);
  }

 private:
  AffineParams activation_params(const std::string& value) const {
    RangeRequest request;
    request.symmetric = options_.symmetric_activations;
    const Range range = ranges_(value, request);
    return choose_activation_qparams(range.lo, range.hi, options_.symmetric_activations);
  }

  void set_quant(const std::string& value, AffineParams params) {
    out_.quant[value] = QuantParams{{params.scale}, {params.zero_point}, -1};
  }

  AffineParams quant_of(const std::string& int8_value) const {
    const QuantParams& q = out_.quant.at(int8_value);
    return {q.scales[0], q.zero_points[0]};
  }

  // Name of the int8 version of float value `v`, inserting a QuantizeLinear if needed.
  std::string int8_version(const std::string& v) {
    const std::string name = v + kInt8Suffix;
    if (int8_values_.count(name)) return name;
    Node quantize;
    quantize.name = v + ".quantize";
    quantize.op = "QuantizeLinear";
    quantize.inputs = {v};
    quantize.outputs = {name};
    set_quant(name, activation_params(v));
    out_.nodes.push_back(std::move(quantize));
    int8_values_.insert(name);
    ++report_.quantize_nodes;
    return name;
  }

  // Makes float value `v` available: if only its int8 version exists, dequantize it.
  void float_version(const std::string& v) {
    if (!int8_values_.count(v + kInt8Suffix) || float_values_.count(v)) return;
    Node dequantize;
    dequantize.name = v + ".dequantize";
    dequantize.op = "DequantizeLinear";
    dequantize.inputs = {v + kInt8Suffix};
    dequantize.outputs = {v};
    out_.nodes.push_back(std::move(dequantize));
    float_values_.insert(v);
    ++report_.dequantize_nodes;
  }

  void copy_initializer(const std::string& name) {
    if (!name.empty() && source_.is_initializer(name)) out_.initializers[name] = *source_.initializer(name);
  }

  void emit_float(const Node& node) {
    for (const auto& input : node.inputs) {
      copy_initializer(input);
      if (!input.empty() && !source_.is_initializer(input)) float_version(input);
    }
    out_.nodes.push_back(node);
    for (const auto& output : node.outputs) float_values_.insert(output);
  }

  void emit_passthrough(const Node& node) {
    Node q = node;
    const std::string input = int8_version(node.inputs[0]);
    q.inputs[0] = input;
    for (size_t i = 1; i < node.inputs.size(); ++i) copy_initializer(node.inputs[i]);  // Reshape's shape
    if (node.op == "AveragePool") q.op = "QAveragePool";
    if (node.op == "GlobalAveragePool") q.op = "QGlobalAveragePool";
    q.outputs[0] = node.outputs[0] + kInt8Suffix;
    // Max/average pooling, nearest resize and reshapes do not change the scale: the output
    // shares the input's.
    out_.quant[q.outputs[0]] = out_.quant.at(input);
    int8_values_.insert(q.outputs[0]);
    out_.nodes.push_back(std::move(q));
  }

  void emit_compute(const Node& node) {
    Node q = node;
    q.outputs[0] = node.outputs[0] + kInt8Suffix;
    set_quant(q.outputs[0], activation_params(node.outputs[0]));
    if (node.op == "Add") {
      q.op = "QAdd";
      q.inputs = {int8_version(node.inputs[0]), int8_version(node.inputs[1])};
    } else {
      q.op = node.op == "Conv" ? "QConv" : "QGemm";
      q.inputs[0] = int8_version(node.inputs[0]);
      quantize_parameters(node, q);
      drop_default_attributes(q, source_.value_info(node.inputs[1]).shape);
      erase_gemm_layout_attributes(q);
    }
    int8_values_.insert(q.outputs[0]);
    out_.nodes.push_back(std::move(q));
  }

  // Weights to int8 ([N, K] for Gemm, OIHW for Conv) and bias to int32 in the accumulator scale.
  void quantize_parameters(const Node& node, Node& q) {
    const WeightRows rows = weight_rows(node, *source_.initializer(node.inputs[1]));
    const std::vector<float>& values = rows.values;
    const Shape& shape = rows.shape;
    const float bias_scale = node.op == "Gemm" ? node.attrs.get_float("beta", 1.0f) : 1.0f;
    const int64_t channels = shape[0];
    std::vector<float> scales;
    std::vector<int8_t> codes = quantize_weights(values.data(), channels, shape_elements(shape) / channels,
                                                 options_.per_channel_weights, scales,
                                                 weight_max_for_bits(options_.weight_bits));
    const std::string weight_name = node.outputs[0] + ".weight_q";  // value names are unique, node names need not be
    Tensor weight_q(DType::i8, shape);
    std::copy(codes.begin(), codes.end(), weight_q.mutable_data<int8_t>());
    out_.initializers[weight_name] = std::move(weight_q);
    std::vector<int32_t> zero_points(scales.size(), 0);
    out_.quant[weight_name] = QuantParams{scales, zero_points, options_.per_channel_weights ? 0 : -1};
    q.inputs[1] = weight_name;

    const AffineParams input = quant_of(q.inputs[0]);
    std::vector<float> bias(static_cast<size_t>(channels), 0.0f);
    if (node.has_input(2)) {
      const Tensor& b = *source_.initializer(node.inputs[2]);
      for (int64_t c = 0; c < channels; ++c) bias[static_cast<size_t>(c)] = b.data<float>()[c] * bias_scale;
    }
    int64_t saturated = 0;
    std::vector<int32_t> bias_codes = quantize_bias(bias.data(), channels, input.scale, scales, saturated);
    report_.saturated_bias_values += saturated;
    const std::string bias_name = node.outputs[0] + ".bias_q";
    Tensor bias_q(DType::i32, {channels});
    std::copy(bias_codes.begin(), bias_codes.end(), bias_q.mutable_data<int32_t>());
    out_.initializers[bias_name] = std::move(bias_q);
    // The bias's scale is implied (input scale x weight scale): no qparams stored for it.
    q.inputs.resize(3);
    q.inputs[2] = bias_name;
  }

  const Graph& source_;
  const RangeProvider& ranges_;
  const QuantizeOptions& options_;
  QuantizeReport& report_;
  Graph out_;
  std::set<std::string> int8_values_;
  std::set<std::string> float_values_;
};

}  // namespace

std::string float_value_name(const std::string& int8_value) {
  const std::string suffix = kInt8Suffix;
  if (int8_value.size() > suffix.size() &&
      int8_value.compare(int8_value.size() - suffix.size(), suffix.size(), suffix) == 0)
    return int8_value.substr(0, int8_value.size() - suffix.size());
  return int8_value;
}

Graph quantize_static(const Graph& graph, const RangeProvider& ranges, const QuantizeOptions& options,
                      QuantizeReport* report) {
  QuantizeReport local;
  StaticQuantizer quantizer(graph, ranges, options, report ? *report : local);
  Graph result = quantizer.run();
  result.metadata["octet.quantization.mode"] = "static";
  result.metadata["octet.quantization.observer"] = options.observer;
  result.metadata["octet.quantization.weights"] = options.per_channel_weights ? "per-channel" : "per-tensor";
  result.metadata["octet.quantization.activations"] = options.symmetric_activations ? "symmetric" : "asymmetric";
  result.metadata["octet.quantization.weight_bits"] = std::to_string(options.weight_bits);
  return result;
}

Graph quantize_dynamic(const Graph& graph, const QuantizeOptions& options, QuantizeReport* report) {
  QuantizeReport local;
  QuantizeReport& r = report ? *report : local;
  Graph out = graph;
  out.quant.clear();
  for (Node& node : out.nodes) {
    const bool keep = std::find(options.keep_float.begin(), options.keep_float.end(), node.name) != options.keep_float.end();
    std::string reason;
    const bool quantizable = !keep && (node.op == "Conv" || node.op == "Gemm") &&
                             classify(graph, node, options, reason) == Role::compute;
    if (!quantizable) {
      ++r.float_nodes;
      continue;
    }
    const WeightRows rows = weight_rows(node, *graph.initializer(node.inputs[1]));
    const std::vector<float>& values = rows.values;
    const Shape& shape = rows.shape;
    if (node.op == "Gemm") {
      if (node.has_input(2)) {
        const Tensor& c = *graph.initializer(node.inputs[2]);
        const float beta = node.attrs.get_float("beta", 1.0f);
        Tensor bias(DType::f32, {shape[0]});
        for (int64_t i = 0; i < shape[0]; ++i) bias.mutable_data<float>()[i] = c.data<float>()[i] * beta;
        out.initializers[node.outputs[0] + ".bias_f"] = std::move(bias);
        node.inputs[2] = node.outputs[0] + ".bias_f";
      }
      erase_gemm_layout_attributes(node);
    }
    std::vector<float> scales;
    std::vector<int8_t> codes = quantize_weights(values.data(), shape[0], shape_elements(shape) / shape[0],
                                                 options.per_channel_weights, scales,
                                                 weight_max_for_bits(options.weight_bits));
    Tensor weight_q(DType::i8, shape);
    std::copy(codes.begin(), codes.end(), weight_q.mutable_data<int8_t>());
    const std::string weight_name = node.outputs[0] + ".weight_q";  // value names are unique, node names need not be
    out.initializers[weight_name] = std::move(weight_q);
    out.quant[weight_name] = QuantParams{scales, std::vector<int32_t>(scales.size(), 0),
                                         options.per_channel_weights ? 0 : -1};
    node.inputs[1] = weight_name;
    node.op = node.op == "Conv" ? "DynQConv" : "DynQGemm";
    ++r.quantized_nodes;
  }
  out.remove_unused();
  out.infer_shapes();
  out.metadata["octet.quantization.mode"] = "dynamic";
  out.metadata["octet.quantization.weights"] = options.per_channel_weights ? "per-channel" : "per-tensor";
  out.metadata["octet.quantization.weight_bits"] = std::to_string(options.weight_bits);
  return out;
}

}  // namespace octet::quant
