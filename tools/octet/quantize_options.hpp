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
  std::string target = "cpu";
  std::string weights;  // empty: per-channel for target cpu, per-tensor for target npu
  std::string activations = "asymmetric";
  std::string mode = "static";
  int weight_bits = 8;
  std::string keep_float;  // comma-separated node names
  bool cle = false;
  bool cle_keep_relu6 = false;
  bool bias_correction = false;
};

void add_quantize_flags(CLI::App& app, QuantizeFlags& flags, bool calib_required);
// Throws octet::Error for flags that contradict each other (--target npu --weights per-channel).
quant::QuantizeOptions to_options(const QuantizeFlags& flags);
// The weight granularity the flags ask for, the target's default when --weights is not given.
std::string weight_granularity(const QuantizeFlags& flags);
// "cle", "bc", "cle bc" or "": the PTQ passes the flags turn on, for row names.
std::string ptq_passes(const QuantizeFlags& flags);

// Quantizes `model` with `options`, calibrating (and correcting biases) on the first
// calib_count samples of `calib` (static mode), reporting progress on stderr.
Model quantize_with_dataset(const Model& model, const quant::QuantizeOptions& options,
                            const data::Dataset* calib, size_t calib_count, QuantizationSummary& summary);

}  // namespace octet::cli
