#include "backends/npu_emu/npu_perf.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "graph/error.hpp"
#include "graph/window_geometry.hpp"

namespace octet::npu {
namespace {

int64_t value_bytes(const Graph& graph, const std::string& value) {
  const ValueInfo& info = graph.value_info(value);
  return shape_elements(info.shape) * static_cast<int64_t>(dtype_size(info.dtype));
}

int64_t layer_macs(const Graph& graph, const Node& node) {
  if (node.op != "QConv" && node.op != "QGemm") return 0;
  const Shape& y = graph.value_info(node.outputs[0]).shape;
  const Shape& w = graph.value_info(node.inputs[1]).shape;
  // Each output sums (in_channels / group) x kh x kw products (Conv), or K (Gemm, weight [N, K]).
  return node.op == "QConv" ? shape_elements(y) * w[1] * w[2] * w[3] : shape_elements(y) * w[1];
}

int64_t layer_ops(const Graph& graph, const Node& node) {
  const Shape& x = graph.value_info(node.inputs[0]).shape;
  const Shape& y = graph.value_info(node.outputs[0]).shape;
  if (node.op == "QConv" || node.op == "QGemm") return layer_macs(graph, node);
  if (node.op == "MaxPool" || node.op == "QAveragePool") {
    const WindowGeometry g = resolve_window_geometry(node, x, node.attrs.get_ints("kernel_shape"),
                                                     node.attrs.get_int("ceil_mode", 0) != 0);
    return shape_elements(y) * g.kernel[0] * g.kernel[1];
  }
  if (node.op == "QGlobalAveragePool") return shape_elements(x);
  if (node.op == "QAdd") return shape_elements(y);
  return 0;
}

int64_t ceil_div(double numerator, double denominator) {
  return static_cast<int64_t>(std::ceil(numerator / denominator));
}

}  // namespace

NpuEstimate estimate_npu(const Graph& graph, const std::vector<bool>& on_npu,
                         const Performance& p) {
  const size_t count = graph.nodes.size();
  if (on_npu.size() != count)
    throw Error("npu estimate: placement has " + std::to_string(on_npu.size()) + " entries for " +
                std::to_string(count) + " nodes");
  // Producer and last NPU consumer of every activation an NPU layer produces.
  std::map<std::string, size_t> npu_producer;
  std::map<std::string, size_t> last_npu_use;
  std::map<std::string, bool> host_uses;
  for (size_t i = 0; i < count; ++i) {
    const Node& node = graph.nodes[i];
    for (const auto& input : node.inputs) {
      if (input.empty() || graph.is_initializer(input)) continue;
      if (on_npu[i])
        last_npu_use[input] = i;
      else
        host_uses[input] = true;
    }
    if (on_npu[i]) npu_producer[node.outputs[0]] = i;
  }
  auto resident = [&](const std::string& value) { return npu_producer.count(value) != 0; };
  auto live_until = [&](const std::string& value) {
    auto it = last_npu_use.find(value);
    return std::max(npu_producer.at(value), it == last_npu_use.end() ? size_t{0} : it->second);
  };

  // First pass: SRAM in use and whether each NPU layer fits.
  std::vector<int64_t> sram(count, 0), weights(count, 0);
  std::vector<bool> fits(count, true);
  for (size_t i = 0; i < count; ++i) {
    if (!on_npu[i]) continue;
    const Node& node = graph.nodes[i];
    for (size_t k = 1; k < node.inputs.size(); ++k)
      if (node.has_input(k) && graph.is_initializer(node.inputs[k]) &&
          (node.op == "QConv" || node.op == "QGemm"))
        weights[i] += value_bytes(graph, node.inputs[k]);
    int64_t bytes = weights[i];
    for (const auto& input : node.inputs)
      if (!input.empty() && !graph.is_initializer(input) && !resident(input))
        bytes += value_bytes(graph, input);
    for (const auto& [value, producer] : npu_producer)
      if (producer <= i && live_until(value) >= i) bytes += value_bytes(graph, value);
    sram[i] = bytes;
    fits[i] = bytes <= p.sram_bytes;
  }

  NpuEstimate estimate;
  for (size_t i = 0; i < count; ++i) {
    if (!on_npu[i]) continue;
    const Node& node = graph.nodes[i];
    LayerEstimate layer;
    layer.node_index = i;
    layer.node = node.label();
    layer.macs = layer_macs(graph, node);
    layer.ops = layer_ops(graph, node);
    layer.weight_bytes = weights[i];
    layer.fits = fits[i];
    layer.sram_bytes = std::min(sram[i], p.sram_bytes);
    for (const auto& input : node.inputs) {
      if (input.empty() || graph.is_initializer(input)) continue;
      if (!resident(input) || !fits[i] || !fits[npu_producer.at(input)])
        layer.input_dram_bytes += value_bytes(graph, input);
    }
    const std::string& output = node.outputs[0];
    bool to_dram = host_uses.count(output) || graph.is_graph_output(output) || !fits[i];
    for (size_t c : graph.consumers(output)) to_dram = to_dram || (on_npu[c] && !fits[c]);
    if (to_dram) layer.output_dram_bytes = value_bytes(graph, output);
    layer.dram_bytes = layer.weight_bytes + layer.input_dram_bytes + layer.output_dram_bytes;
    layer.compute_cycles = ceil_div(static_cast<double>(layer.ops), p.macs_per_cycle);
    layer.memory_cycles = ceil_div(static_cast<double>(layer.dram_bytes), p.dram_bytes_per_cycle);
    layer.cycles = std::max(layer.compute_cycles, layer.memory_cycles) + p.layer_overhead_cycles;
    layer.latency_ms = static_cast<double>(layer.cycles) / (p.clock_mhz * 1e3);
    estimate.macs += layer.macs;
    estimate.cycles += layer.cycles;
    estimate.dram_bytes += layer.dram_bytes;
    estimate.sram_peak_bytes = std::max(estimate.sram_peak_bytes, layer.sram_bytes);
    estimate.layers.push_back(std::move(layer));
  }
  estimate.latency_ms = static_cast<double>(estimate.cycles) / (p.clock_mhz * 1e3);
  return estimate;
}

}  // namespace octet::npu
