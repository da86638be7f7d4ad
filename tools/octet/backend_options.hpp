#pragma once
// The backend flags of every command that runs a model: --backend, and for the npu backend
// --npu-config and --convert-per-tensor.
#include <CLI/CLI.hpp>
#include <string>

#include "engine/model.hpp"
#include "engine/session.hpp"

namespace octet::cli {

struct BackendFlags {
  std::string backend;
  std::string npu_config;
  bool convert_per_tensor = false;
};

// Adds the three options to `sub`; `backend` defaults to `default_backend`.
void add_backend_flags(CLI::App& sub, BackendFlags& flags, const std::string& default_backend);

// Session options for `model` (threads left at 1 for the caller to set). Says on stderr when
// per-channel weights are converted for the npu; throws for flags the backend does not take.
SessionOptions session_options(const BackendFlags& flags, const Model& model);

}  // namespace octet::cli
