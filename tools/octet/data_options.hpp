#pragma once
// The data options every command that reads data shares: SPEC, --labels, --limit, --mean, --std
// (and `targets`, which only `eval` offers as --targets).
#include <CLI/CLI.hpp>
#include <string>

#include "engine/data/dataset.hpp"

namespace octet::cli {

struct DataOptions {
  std::string spec, labels, mean, std, targets;
  size_t limit = 0;
};

// `flag` is the spec option's name ("--data", "--calib"); with `with_limit`, --limit is added.
void add_data_options(CLI::App& app, DataOptions& options, const std::string& flag, bool with_limit);
// Loads the dataset, applies normalization and the limit.
data::Dataset load_data(const DataOptions& options);

}  // namespace octet::cli
