#pragma once
// Profiling an int8 model against its fp32 reference (DESIGN.md §4 "Profilers"), sample by
// sample, on one or more int8 backends side by side ("ref", "cpu", an NPU emulation...).
//
// Per sample:
//   1. the fp32 model runs once (ref backend) with ReferenceActivations (one fp32 copy of every
//      comparable value: the profile's memory bound) and the fp32 histograms;
//   2. for every backend, the int8 model runs
//        - propagated: on its own input, with StatProfiler, OverflowProfiler, code histograms;
//        - local: with LocalInputSwap feeding each node the quantized fp32 input, and a second
//          StatProfiler;
//        - timed (the first `timing_runs` samples): with only LayerTimer attached.
// Everything accumulates in streaming form; report() turns it into plain data.
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/model.hpp"
#include "engine/session.hpp"
#include "quant/accumulator_overflow.hpp"
#include "quant/error_stats.hpp"
#include "quant/hist_profiler.hpp"
#include "quant/layer_timer.hpp"
#include "quant/qadd_diagnostics.hpp"
#include "quant/reference_activations.hpp"

namespace octet {

struct ProfileOptions {
  std::vector<std::string> backends = {"ref"};  // int8 executions, profiled side by side
  bool propagated = true;
  bool local = true;
  int threads = 1;  // per kernel (cpu backend)
  bool count_overflow =
      true;  // pair saturation and narrow accumulators (a scalar pass per QConv/QGemm)
  int accumulator_bits = 24;
  int histogram_bins = quant::TensorHistogramProfiler::kDefaultBins;
  size_t timing_runs = 20;  // samples that also get a timing pass (fp32 and each backend)
};

struct LayerBackendReport {
  std::string
      ran_on;  // the backend that prepared the node (differs from the requested one on fallback)
  std::optional<quant::ErrorStats> propagated, local;
  std::optional<quant::OverflowCounts> overflow;
  double median_ms = 0.0, min_ms = 0.0;  // over the timed runs
  uint64_t timed_runs = 0;
  double gops = 0.0;  // 2·MACs / median time, in 1e9 operations per second (0 without MACs)
};

struct LayerReport {
  size_t node_index = 0;
  std::string node, op;
  std::string value;      // the node's first output in the int8 graph
  std::string reference;  // its fp32 twin, empty when the value is not compared
  bool int8 = false;
  quant::AffineParams params;  // output qparams when int8
  int64_t macs = 0;
  size_t weight_bytes = 0;                   // constant inputs (int8 weights, int32 bias)
  size_t activation_bytes = 0;               // activation inputs and outputs
  std::vector<LayerBackendReport> backends;  // parallel to ProfileReport::backends
};

struct TensorReport {
  quant::TensorHistogram fp32;                             // the fp32 values, range, clipping
  std::vector<std::optional<quant::CodeHistogram>> codes;  // per backend, propagated pass
  explicit TensorReport(quant::TensorHistogram histogram) : fp32(std::move(histogram)) {}
};

struct AddReport {
  quant::QAddDiagnostic diagnostic;
  std::vector<std::string> ran_on;  // per backend
};

struct RunSummary {
  std::string name;       // "fp32" or the backend
  std::string isa;        // kernel path of the cpu backend (kernels::active_isa), "scalar" for ref
  std::string partition;  // CompiledPlan::partition_summary()
  size_t arena_bytes = 0;
  size_t parameter_bytes = 0;
  double latency_median_ms = 0.0, latency_min_ms = 0.0;
  uint64_t timed_runs = 0;
  double quantize_ms = 0.0,
         dequantize_ms = 0.0;  // median time in QuantizeLinear / DequantizeLinear nodes
  size_t labelled = 0, correct_top1 = 0;
  std::optional<quant::ErrorStats> output_error;  // the model's first output vs fp32's (propagated)
  double top1() const {
    return labelled ? static_cast<double>(correct_top1) / static_cast<double>(labelled) : 0.0;
  }
};

struct ProfileReport {
  size_t samples = 0;
  bool propagated = false, local = false;
  int accumulator_bits = 24;
  std::string output;  // the compared model output
  RunSummary fp32;
  std::vector<RunSummary> backends;
  std::vector<LayerReport> layers;    // every node of the int8 graph, in order
  std::vector<TensorReport> tensors;  // every quantized fp32 value
  std::vector<AddReport> adds;        // every Add of the fp32 model
  size_t reference_bytes = 0;         // ReferenceActivations: the fp32 activations held per sample
  size_t peak_rss_bytes = 0;          // of the process, when report() was called
  std::map<std::string, std::string> metadata;  // the int8 model's (quantization settings)

  // The layer producing `node`, or nullptr.
  const LayerReport* find_layer(const std::string& node) const;
  size_t backend_index(const std::string& name) const;  // throws if absent
};

class ModelProfiler {
 public:
  // Checks that `tested` is an int8 version of `reference` (same inputs and outputs, every
  // "v.q" has its "v"); a mismatch throws octet::Error naming the first difference.
  ModelProfiler(const Model& reference, const Model& tested, ProfileOptions options);
  ~ModelProfiler();
  ModelProfiler(const ModelProfiler&) = delete;
  ModelProfiler& operator=(const ModelProfiler&) = delete;

  // Called once per side and sample, after its last run of the sample, with the side's first
  // output (valid during the call only): side 0 is fp32, side 1 + i is options().backends[i].
  // Lets a caller score outputs its own way (regression metrics against targets) without the
  // profiler keeping them.
  using OutputScorer = std::function<void(size_t side, const Tensor& output)>;

  // One sample (the model's single input). `label` >= 0 also scores top-1.
  void run(const Tensor& input, int64_t label = -1, const OutputScorer& scorer = {});
  ProfileReport report() const;
  const ProfileOptions& options() const { return options_; }

 private:
  struct Side;
  struct Backend;
  void time_run(Side& side, const Tensor& input);
  static void score(Side& side, int64_t label);

  Model reference_, tested_;
  ProfileOptions options_;
  std::unique_ptr<quant::ReferenceActivations> activations_;
  std::unique_ptr<quant::TensorHistogramProfiler> histograms_;
  std::unique_ptr<Side> fp32_;
  std::vector<std::unique_ptr<Backend>> backends_;
  size_t samples_ = 0;
};

// The process's peak resident set size so far (getrusage), in bytes.
size_t peak_rss_bytes();

}  // namespace octet
