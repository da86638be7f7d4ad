#include "backends/npu_emu/npu_constraints.hpp"

#include <algorithm>
#include <cstdlib>

#include "graph/window_geometry.hpp"

namespace octet::npu {
namespace {

std::string range_text(int64_t low, int64_t high) {
  return low == high ? std::to_string(low) : std::to_string(low) + ".." + std::to_string(high);
}

bool is_int8_activation(const Graph& graph, const std::string& value) {
  return !value.empty() && !graph.is_initializer(value) &&
         graph.value_info(value).dtype == DType::i8;
}

// Values the NPU would read or write as activations: must be per tensor, and with zero point 0
// when the config takes symmetric activations only.
void check_activations(const NpuConfig& config, const Graph& graph, const Node& node,
                       LayerCheck& check) {
  if (!config.symmetric_activations_only) return;
  std::vector<std::string> values;
  for (const auto& input : node.inputs)
    if (is_int8_activation(graph, input)) values.push_back(input);
  values.push_back(node.outputs[0]);
  for (const auto& value : values) {
    auto it = graph.quant.find(value);
    if (it != graph.quant.end() && !it->second.zero_points.empty() &&
        it->second.zero_points[0] != 0) {
      check.refusals.push_back(
          {RefusalKind::asymmetric_activations,
           "asymmetric activation '" + value + "' (zero point " +
               std::to_string(it->second.zero_points[0]) +
               "), the NPU takes symmetric only (quantize with --activations symmetric)"});
      return;
    }
  }
}

void check_weights(const NpuConfig& config, const Graph& graph, const Node& node,
                   LayerCheck& check) {
  const QuantParams& w = graph.quant.at(node.inputs[1]);
  if (w.per_channel())
    check.refusals.push_back({RefusalKind::per_channel_weights,
                              "per-channel weights (" + std::to_string(w.scales.size()) +
                                  " scales), the NPU takes per-tensor weights only"});
  const Tensor* weight = graph.initializer(node.inputs[1]);
  if (!weight || weight->elements() == 0) return;
  const int8_t* codes = weight->data<int8_t>();
  const auto [lo, hi] = std::minmax_element(codes, codes + weight->elements());
  if (*lo < config.weight_min || *hi > config.weight_max)
    check.refusals.push_back(
        {RefusalKind::weight_range,
         "weight codes in [" + std::to_string(*lo) + ", " + std::to_string(*hi) +
             "], the NPU takes [" + std::to_string(config.weight_min) + ", " +
             std::to_string(config.weight_max) + "]" +
             (config.weight_max < 127 ? " (quantize with --weight-bits 7)" : "")});
}

AccumulatorBound accumulator_bound(const NpuConfig& config, const Graph& graph, const Node& node) {
  AccumulatorBound b;
  const Tensor* weight = graph.initializer(node.inputs[1]);
  const Shape& w = graph.value_info(node.inputs[1]).shape;
  b.depth = w[0] > 0 ? shape_elements(w) / w[0] : 0;
  auto input = graph.quant.find(node.inputs[0]);
  const int64_t zp = input != graph.quant.end() && !input->second.zero_points.empty()
                         ? input->second.zero_points[0]
                         : 0;
  b.max_abs_input = std::max<int64_t>(127 - zp, zp + 128);
  if (weight)
    for (int64_t i = 0; i < weight->elements(); ++i)
      b.max_abs_weight = std::max<int64_t>(
          b.max_abs_weight, std::abs(static_cast<int64_t>(weight->data<int8_t>()[i])));
  if (node.has_input(2))
    if (const Tensor* bias = graph.initializer(node.inputs[2]))
      for (int64_t i = 0; i < bias->elements(); ++i)
        b.max_abs_bias = std::max<int64_t>(
            b.max_abs_bias, std::abs(static_cast<int64_t>(bias->data<int32_t>()[i])));
  b.bound = b.max_abs_bias + b.depth * b.max_abs_input * b.max_abs_weight;
  b.bits_needed = signed_bits_for(b.bound);
  b.bits = config.accumulator_bits;
  return b;
}

void limit(LayerCheck& check, bool ok, const std::string& text) {
  if (!ok) check.refusals.push_back({RefusalKind::limit, text});
}

void check_conv_limits(const ConvLimits& c, const Graph& graph, const Node& node,
                       LayerCheck& check) {
  const Shape& x = graph.value_info(node.inputs[0]).shape;
  const Shape& w = graph.value_info(node.inputs[1]).shape;
  const WindowGeometry g = resolve_window_geometry(node, x, {w[2], w[3]}, false);
  const int64_t kh = g.kernel[0], kw = g.kernel[1];
  limit(check, std::min(kh, kw) >= c.kernel_min && std::max(kh, kw) <= c.kernel_max,
        "kernel " + std::to_string(kh) + "x" + std::to_string(kw) + " outside " +
            range_text(c.kernel_min, c.kernel_max));
  const int64_t s_lo = std::min(g.strides[0], g.strides[1]),
                s_hi = std::max(g.strides[0], g.strides[1]);
  limit(check, s_lo >= c.stride_min && s_hi <= c.stride_max,
        "stride " + std::to_string(g.strides[0]) + "x" + std::to_string(g.strides[1]) +
            " outside " + range_text(c.stride_min, c.stride_max));
  const int64_t dilation = std::max(g.dilations[0], g.dilations[1]);
  limit(check, dilation <= c.dilation_max,
        "dilation " + std::to_string(dilation) + " above " + std::to_string(c.dilation_max));
  const int64_t group = node.attrs.get_int("group", 1);
  if (group > 1) {
    const bool depthwise = group == x[1];
    limit(check, depthwise ? c.depthwise : c.grouped,
          std::string(depthwise ? "depthwise" : "grouped") + " convolution (group " +
              std::to_string(group) + ") not supported");
  }
}

void check_window_limits(const PoolLimits& p, const Graph& graph, const Node& node,
                         LayerCheck& check) {
  const Shape& x = graph.value_info(node.inputs[0]).shape;
  const WindowGeometry g = resolve_window_geometry(node, x, node.attrs.get_ints("kernel_shape"),
                                                   node.attrs.get_int("ceil_mode", 0) != 0);
  limit(check, std::max(g.kernel[0], g.kernel[1]) <= p.kernel_max,
        "kernel " + std::to_string(g.kernel[0]) + "x" + std::to_string(g.kernel[1]) + " above " +
            std::to_string(p.kernel_max));
  limit(check, std::max(g.strides[0], g.strides[1]) <= p.stride_max,
        "stride " + std::to_string(g.strides[0]) + "x" + std::to_string(g.strides[1]) + " above " +
            std::to_string(p.stride_max));
}

void not_listed(LayerCheck& check, const std::string& op) {
  check.refusals.push_back({RefusalKind::unsupported_op, op + " is not among the config's ops"});
}

}  // namespace

const char* refusal_kind_name(RefusalKind kind) {
  switch (kind) {
    case RefusalKind::host_op:
      return "host op";
    case RefusalKind::unsupported_op:
      return "unsupported op";
    case RefusalKind::per_channel_weights:
      return "per-channel weights";
    case RefusalKind::asymmetric_activations:
      return "asymmetric activations";
    case RefusalKind::weight_range:
      return "weight range";
    case RefusalKind::limit:
      return "limit";
  }
  return "?";
}

std::string LayerCheck::reasons() const {
  std::string text;
  for (const auto& refusal : refusals) text += (text.empty() ? "" : "; ") + refusal.text;
  return text;
}

int32_t signed_bits_for(int64_t bound) {
  int32_t bits = 1;
  while (bits < 64 && bound > (int64_t{1} << (bits - 1)) - 1) ++bits;
  return bits;
}

LayerCheck check_layer(const NpuConfig& config, const Graph& graph, const Node& node) {
  LayerCheck check;
  const std::string& op = node.op;
  if (op == "QuantizeLinear" || op == "DequantizeLinear") {
    check.refusals.push_back({RefusalKind::host_op, "float boundary: " + op + " runs on the host"});
    return check;
  }
  if (op == "DynQConv" || op == "DynQGemm") {
    check.refusals.push_back({RefusalKind::host_op, "dynamic quantization (float activations)"});
    return check;
  }
  const bool int8_ops = op == "QConv" || op == "QGemm" || op == "QAdd" || op == "QAveragePool" ||
                        op == "QGlobalAveragePool";
  const bool int8_moves = (op == "MaxPool" || op == "Flatten" || op == "Reshape") &&
                          graph.value_info(node.inputs[0]).dtype == DType::i8;
  if (!int8_ops && !int8_moves) {
    // An int8 op the NPU has no kernel for (e.g. Resize) is unsupported; only float ops are
    // refused for being float.
    const bool reads_int8 = !node.inputs.empty() && graph.value_info(node.inputs[0]).dtype == DType::i8;
    if (reads_int8)
      not_listed(check, op);
    else
      check.refusals.push_back({RefusalKind::host_op, "float op (the NPU datapath is integer-only)"});
    return check;
  }
  const OpSupport& ops = config.ops;
  if (op == "QConv") {
    check.accumulator = accumulator_bound(config, graph, node);
    if (!ops.qconv) not_listed(check, op);
    check_weights(config, graph, node, check);
    if (ops.qconv) check_conv_limits(*ops.qconv, graph, node, check);
  } else if (op == "QGemm") {
    check.accumulator = accumulator_bound(config, graph, node);
    if (!ops.qgemm) not_listed(check, op);
    check_weights(config, graph, node, check);
    const Shape& w = graph.value_info(node.inputs[1]).shape;
    if (ops.qgemm) {
      limit(check, w[1] <= ops.qgemm->max_k,
            "K " + std::to_string(w[1]) + " above " + std::to_string(ops.qgemm->max_k));
      limit(check, w[0] <= ops.qgemm->max_n,
            "N " + std::to_string(w[0]) + " above " + std::to_string(ops.qgemm->max_n));
    }
  } else if (op == "QAdd") {
    if (!ops.qadd) not_listed(check, op);
    const bool broadcast =
        graph.value_info(node.inputs[0]).shape != graph.value_info(node.inputs[1]).shape;
    if (ops.qadd)
      limit(check, !broadcast || ops.qadd->broadcast_scalar, "broadcast of a scalar not supported");
  } else if (op == "MaxPool") {
    if (!ops.max_pool)
      not_listed(check, op);
    else
      check_window_limits(*ops.max_pool, graph, node, check);
  } else if (op == "QAveragePool") {
    if (!ops.average_pool)
      not_listed(check, op);
    else
      check_window_limits(*ops.average_pool, graph, node, check);
  } else if (op == "QGlobalAveragePool") {
    if (!ops.global_average_pool) {
      not_listed(check, op);
    } else {
      const Shape& x = graph.value_info(node.inputs[0]).shape;
      const int64_t window = x[2] * x[3];
      limit(check, window <= ops.global_average_pool->max_window,
            "window of " + std::to_string(window) + " positions above " +
                std::to_string(ops.global_average_pool->max_window));
    }
  } else if (op == "Flatten" && !ops.flatten) {
    not_listed(check, op);
  } else if (op == "Reshape" && !ops.reshape) {
    not_listed(check, op);
  }
  check_activations(config, graph, node, check);
  return check;
}

std::vector<std::string> per_channel_layers(const Graph& graph) {
  std::vector<std::string> layers;
  for (const Node& node : graph.nodes)
    if ((node.op == "QConv" || node.op == "QGemm") && graph.quant.count(node.inputs[1]) &&
        graph.quant.at(node.inputs[1]).per_channel())
      layers.push_back(node.label());
  return layers;
}

std::string first_per_channel_layer(const Graph& graph) {
  const std::vector<std::string> layers = per_channel_layers(graph);
  return layers.empty() ? "" : layers.front();
}

}  // namespace octet::npu
