#pragma once
// `octet profile --sensitivity`: which layers to keep in float, or to give another observer,
// ranked by what undoing each layer's quantization alone recovers (engine/sensitivity.hpp).
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <string>

#include "engine/data/dataset.hpp"
#include "engine/model.hpp"
#include "tools/octet/data_options.hpp"

namespace octet::cli {

struct SensitivityFlags {
  bool enabled = false;
  size_t samples = 200;           // evaluation samples per trial (the first N of --data)
  std::string observers = "all";  // observer trials: all, none, or a comma-separated list
  std::string calib;              // calibration spec for the observer trials (default: --data)
  size_t calib_count = 200;
  bool classification = true;  // false (--task regression): no top-1, even if the data has labels
};

void add_sensitivity_flags(CLI::App& app, SensitivityFlags& flags);

// Runs the analysis on `backend` and returns it as JSON ("ranking", "trials", "base", ...).
nlohmann::json run_sensitivity(const Model& reference, const Model& tested,
                               const data::Dataset& data, const SensitivityFlags& flags,
                               const std::string& backend, int threads);

void print_sensitivity(const nlohmann::json& sensitivity);

}  // namespace octet::cli
