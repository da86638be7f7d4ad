#include "tools/octet/backend_options.hpp"

#include <cstdio>

#include "backends/npu_emu/npu_constraints.hpp"
#include "graph/error.hpp"

namespace octet::cli {

void add_backend_flags(CLI::App& sub, BackendFlags& flags, const std::string& default_backend) {
  flags.backend = default_backend;
  sub.add_option("--backend", flags.backend,
                 "ref (scalar reference), cpu (SIMD kernels), onednn, or npu (emulated NPU, the "
                 "host runs the rest)")
      ->capture_default_str()
      ->check(CLI::IsMember(available_backends()));
  sub.add_option("--npu-config", flags.npu_config, "NPU config JSON (default: the built-in one)")
      ->check(CLI::ExistingFile);
  sub.add_flag("--convert-per-tensor", flags.convert_per_tensor,
               "npu: convert per-channel int8 weights to per-tensor at load");
}

SessionOptions session_options(const BackendFlags& flags, const Model& model) {
  if (flags.backend != "npu" && (!flags.npu_config.empty() || flags.convert_per_tensor))
    throw Error(std::string(flags.npu_config.empty() ? "--convert-per-tensor" : "--npu-config") +
                " needs --backend npu (backend is '" + flags.backend + "')");
  SessionOptions options;
  options.backend = flags.backend;
  options.npu_config = flags.npu_config;
  options.convert_per_tensor = flags.convert_per_tensor;
  if (flags.backend == "npu" && flags.convert_per_tensor) {
    const std::vector<std::string> layers = npu::per_channel_layers(model.graph());
    if (!layers.empty())
      std::fprintf(
          stderr,
          "octet: note: npu: converting the per-channel weights of %zu layer(s) to per-tensor "
          "at load (first: %s)\n",
          layers.size(), layers.front().c_str());
  }
  return options;
}

}  // namespace octet::cli
