#pragma once
// The quantization flags shared by `quantize` and `compare`, and the calibration loop over a
// dataset with progress on stderr.
#include <CLI/CLI.hpp>
#include <string>

#include "engine/data/dataset.hpp"
#include "engine/quantize.hpp"
#include "tools/octet/data_options.hpp"

namespace octet::cli {

struct QuantizeFlags {
  DataOptions calib;
  size_t calib_count = 500;
  std::string observer = "minmax";
  std::string weights = "per-channel";
  std::string activations = "asymmetric";
  std::string mode = "static";
  int weight_bits = 8;
  std::string keep_float;  // comma-separated node names
};

void add_quantize_flags(CLI::App& app, QuantizeFlags& flags, bool calib_required);
quant::QuantizeOptions to_options(const QuantizeFlags& flags);

// Quantizes `model` with `options`, calibrating on the first calib_count samples of `calib`
// (static mode), reporting progress on stderr.
Model quantize_with_dataset(const Model& model, const quant::QuantizeOptions& options,
                            const data::Dataset* calib, size_t calib_count, QuantizationSummary& summary);

}  // namespace octet::cli
