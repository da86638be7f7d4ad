// octet lint MODEL --target npu: per layer, what the NPU described by the config refuses and
// why, what runs on the CPU instead, and the accumulator's worst case. Uses the same check as
// the npu backend (npu_constraints.hpp), so it predicts the partition `--backend npu` executes.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <map>

#include "backends/npu_emu/npu_constraints.hpp"
#include "tools/octet/commands.hpp"
#include "tools/octet/model_loader.hpp"

namespace octet::cli {
namespace {

nlohmann::json accumulator_json(const npu::AccumulatorBound& a) {
  return {{"depth", a.depth},
          {"max_abs_input", a.max_abs_input},
          {"max_abs_weight", a.max_abs_weight},
          {"max_abs_bias", a.max_abs_bias},
          {"bound", a.bound},
          {"bits_needed", a.bits_needed},
          {"bits", a.bits},
          {"overflow_risk", a.overflow_risk()}};
}

std::string accumulator_text(const npu::AccumulatorBound& a) {
  return "accumulator bound " + std::to_string(a.bound) + " (K " + std::to_string(a.depth) + " x " +
         std::to_string(a.max_abs_input) + " x " + std::to_string(a.max_abs_weight) + " + bias " +
         std::to_string(a.max_abs_bias) + ") needs " + std::to_string(a.bits_needed) + " bits of " +
         std::to_string(a.bits) + (a.overflow_risk() ? ": MAY SATURATE" : "");
}

}  // namespace

Command add_lint_command(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "lint", "What a target (the emulated NPU) refuses in a model, layer by layer, and why");
  struct Options {
    std::string model, target, npu_config;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  sub->add_option("model", o->model, "Model file (.oct or .onnx)")->required();
  sub->add_option("--target", o->target, "Target to check against")
      ->required()
      ->check(CLI::IsMember({"npu"}));
  sub->add_option("--npu-config", o->npu_config, "NPU config JSON (default: the built-in one)")
      ->check(CLI::ExistingFile);
  sub->add_flag("--json", o->json, "Print one JSON object");
  return [o]() {
    const Model model = load_model(o->model);
    const npu::NpuConfig config = npu::load_npu_config(o->npu_config);
    const Graph& graph = model.graph();
    nlohmann::json layers = nlohmann::json::array();
    std::map<std::string, size_t> by_kind;
    std::vector<std::string> fallbacks;
    size_t on_npu = 0, risks = 0, per_channel = 0;
    std::string text;
    for (const Node& node : graph.nodes) {
      const npu::LayerCheck check = npu::check_layer(config, graph, node);
      nlohmann::json layer = {{"node", node.label()},
                              {"op", node.op},
                              {"name", node.name},
                              {"placement", check.on_npu() ? "npu" : "cpu"},
                              {"reasons", nlohmann::json::array()}};
      for (const auto& refusal : check.refusals) {
        layer["reasons"].push_back(
            {{"kind", npu::refusal_kind_name(refusal.kind)}, {"text", refusal.text}});
        ++by_kind[npu::refusal_kind_name(refusal.kind)];
        per_channel += refusal.kind == npu::RefusalKind::per_channel_weights;
      }
      if (check.accumulator) {
        layer["accumulator"] = accumulator_json(*check.accumulator);
        risks += check.accumulator->overflow_risk();
      }
      layers.push_back(layer);
      if (check.on_npu())
        ++on_npu;
      else
        fallbacks.push_back(node.label());
      text += std::string("  ") + (check.on_npu() ? "npu  " : "cpu  ") + node.label();
      if (!check.on_npu()) text += ": " + check.reasons();
      if (check.accumulator)
        text += (check.on_npu() ? ": " : "; ") + accumulator_text(*check.accumulator);
      text += "\n";
    }
    const size_t on_cpu = graph.nodes.size() - on_npu;
    const std::string hint = per_channel == 0
                                 ? ""
                                 : "per-channel weights: run with --convert-per-tensor, or "
                                   "quantize with --weights per-tensor";
    if (o->json) {
      nlohmann::json out = {{"model", o->model},
                            {"target", "npu"},
                            {"config", {{"name", config.name}, {"source", config.source}}},
                            {"layers", layers}};
      out["summary"] = {
          {"nodes", graph.nodes.size()}, {"npu", on_npu},           {"cpu", on_cpu},
          {"refusals", by_kind},         {"overflow_risks", risks}, {"cpu_fallbacks", fallbacks}};
      if (!hint.empty()) out["summary"]["hint"] = hint;
      std::cout << out.dump(2) << "\n";
      return 0;
    }
    std::printf("lint %s for the npu (config %s: %s)\n%s", o->model.c_str(), config.source.c_str(),
                config.name.c_str(), text.c_str());
    std::string kinds;
    for (const auto& [kind, count] : by_kind)
      kinds += (kinds.empty() ? "" : ", ") + std::to_string(count) + " " + kind;
    std::printf(
        "summary: %zu of %zu nodes on the npu, %zu on the cpu%s; %zu accumulator overflow "
        "risk(s)\n",
        on_npu, graph.nodes.size(), on_cpu,
        kinds.empty() ? "" : (" (refusals: " + kinds + ")").c_str(), risks);
    if (!hint.empty()) std::printf("fix: %s\n", hint.c_str());
    return 0;
  };
}

}  // namespace octet::cli
