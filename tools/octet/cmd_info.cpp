// octet info MODEL: what the model is (inputs, outputs, ops, parameters, MACs, bytes).
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <map>

#include "engine/model.hpp"
#include "tools/octet/commands.hpp"
#include "tools/octet/model_loader.hpp"

namespace octet::cli {

Command add_info_command(CLI::App& app) {
  auto* sub = app.add_subcommand("info", "Describe a model: inputs, outputs, ops, parameters, MACs");
  auto model_path = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  sub->add_option("model", *model_path, "Model file (.onnx)")->required();
  sub->add_flag("--json", *json, "Print one JSON object instead of text");
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
