// octet info MODEL: what the model is (inputs, outputs, ops, parameters, MACs, bytes).
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <algorithm>
#include <map>

#include "engine/model.hpp"
#include "quant/qparams.hpp"
#include "tools/octet/commands.hpp"
#include "tools/octet/model_loader.hpp"

namespace octet::cli {

namespace {

std::string qparams_text(const Graph& graph, const std::string& value) {
  auto it = graph.quant.find(value);
  if (it == graph.quant.end()) return "f32";
  const QuantParams& q = it->second;
  char text[96];
  if (q.scales.size() == 1) {
    std::snprintf(text, sizeof text, "s=%.6g z=%d", static_cast<double>(q.scales[0]), q.zero_points[0]);
  } else {
    float lo = q.scales[0], hi = q.scales[0];
    for (float s : q.scales) lo = std::min(lo, s), hi = std::max(hi, s);
    std::snprintf(text, sizeof text, "s=[%.4g..%.4g] per-channel(%zu)", static_cast<double>(lo),
                  static_cast<double>(hi), q.scales.size());
  }
  return text;
}

std::string multiplier_text(double real) {
  const kernels::QuantizedMultiplier m = quant::quantize_multiplier(real);
  char text[96];
  std::snprintf(text, sizeof text, "M=%.6g (M0=%d, shift=%d)", real, m.multiplier, m.shift);
  return text;
}

// One line per node with its qparams; for QConv/QGemm the requantization multiplier of channel
// 0, for QAdd the scheme of docs/quantization.md §4.
void print_layers(const Graph& graph) {
  for (const Node& node : graph.nodes) {
    std::printf("%-18s %-28s in %-22s out %s\n", node.op.c_str(), node.name.c_str(),
                qparams_text(graph, node.inputs[0]).c_str(), qparams_text(graph, node.outputs[0]).c_str());
    if ((node.op == "QConv" || node.op == "QGemm") && graph.quant.count(node.outputs[0])) {
      const QuantParams& w = graph.quant.at(node.inputs[1]);
      const double real = static_cast<double>(graph.quant.at(node.inputs[0]).scales[0]) * w.scales[0] /
                          graph.quant.at(node.outputs[0]).scales[0];
      std::printf("%18s weights %s; channel 0: %s\n", "", qparams_text(graph, node.inputs[1]).c_str(),
                  multiplier_text(real).c_str());
    }
    if (node.op == "QAdd") {
      const QuantParams& a = graph.quant.at(node.inputs[0]);
      const QuantParams& b = graph.quant.at(node.inputs[1]);
      const QuantParams& y = graph.quant.at(node.outputs[0]);
      const kernels::QAddParams p = quant::make_qadd_params({a.scales[0], a.zero_points[0]},
                                                            {b.scales[0], b.zero_points[0]},
                                                            {y.scales[0], y.zero_points[0]}, -128, 127);
      std::printf("%18s b %s; scale ratio %.2f; a: M0=%d shift=%d, b: M0=%d shift=%d, out: M0=%d shift=%d\n", "",
                  qparams_text(graph, node.inputs[1]).c_str(),
                  static_cast<double>(std::max(a.scales[0], b.scales[0]) / std::min(a.scales[0], b.scales[0])),
                  p.a_multiplier.multiplier, p.a_multiplier.shift, p.b_multiplier.multiplier, p.b_multiplier.shift,
                  p.output_multiplier.multiplier, p.output_multiplier.shift);
    }
  }
}

}  // namespace

Command add_info_command(CLI::App& app) {
  auto* sub = app.add_subcommand("info", "Describe a model: inputs, outputs, ops, parameters, MACs");
  auto model_path = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto layers = std::make_shared<bool>(false);
  sub->add_option("model", *model_path, "Model file (.onnx)")->required();
  sub->add_flag("--json", *json, "Print one JSON object instead of text");
  sub->add_flag("--layers", *layers, "Per layer: quantization parameters and fixed-point multipliers");
  return [=]() {
    Model model = load_model(*model_path);
    const Graph& graph = model.graph();
    const ModelStats stats = model.stats();
    std::map<std::string, size_t> ops;
    for (const auto& node : graph.nodes) ++ops[node.op];
    if (*json) {
      nlohmann::json out;
      out["model"] = *model_path;
      out["nodes"] = stats.nodes;
      out["parameters"] = stats.parameters;
      out["parameter_bytes"] = stats.parameter_bytes;
      out["macs"] = stats.macs;
      out["ops"] = ops;
      for (const auto& name : graph.inputs)
        out["inputs"].push_back({{"name", name}, {"dtype", dtype_name(graph.value_info(name).dtype)},
                                 {"shape", graph.value_info(name).shape}});
      for (const auto& name : graph.outputs)
        out["outputs"].push_back({{"name", name}, {"dtype", dtype_name(graph.value_info(name).dtype)},
                                  {"shape", graph.value_info(name).shape}});
      std::cout << out.dump(2) << "\n";
      return 0;
    }
    if (*layers) {
      print_layers(graph);
      return 0;
    }
    std::printf("model       %s\n", model_path->c_str());
    for (const auto& name : graph.inputs)
      std::printf("input       %s %s %s\n", name.c_str(), dtype_name(graph.value_info(name).dtype),
                  shape_str(graph.value_info(name).shape).c_str());
    for (const auto& name : graph.outputs)
      std::printf("output      %s %s %s\n", name.c_str(), dtype_name(graph.value_info(name).dtype),
                  shape_str(graph.value_info(name).shape).c_str());
    std::printf("nodes       %zu (after BatchNorm folding and activation fusion)\n", stats.nodes);
    std::printf("parameters  %lld (%.2f MB)\n", static_cast<long long>(stats.parameters),
                static_cast<double>(stats.parameter_bytes) / 1e6);
    std::printf("MACs        %lld (%.2f M per inference)\n", static_cast<long long>(stats.macs),
                static_cast<double>(stats.macs) / 1e6);
    std::printf("ops        ");
    for (const auto& entry : ops) std::printf(" %s×%zu", entry.first.c_str(), entry.second);
    std::printf("\n");
    return 0;
  };
}

}  // namespace octet::cli
