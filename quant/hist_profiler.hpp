#pragma once
// The Hist profiler, two hooks:
//  - TensorHistogramProfiler on the fp32 session: per value that the int8 model quantizes, a
//    histogram of its fp32 values (quant::Histogram, at most `max_bins` bins whatever the
//    data), the range its int8 twin can represent, and how the output quantization alone
//    would err on it: clipped elements and their squared error, rounding's squared error on
//    the others (the "ideal" error: fp32 values quantized once with the twin's qparams).
//  - CodeHistogramProfiler on an int8 session: per int8 value, the 256-bin histogram of its
//    codes (how many of the 256 levels the quantization actually uses).
// Both keep fixed-size state only.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "graph/execution_hook.hpp"
#include "graph/graph.hpp"
#include "quant/histogram.hpp"
#include "quant/qparams.hpp"

namespace octet::quant {

struct TensorHistogram {
  std::string value;                       // fp32 value "v"
  std::string twin;                        // its int8 twin "v.q"
  AffineParams params;                     // the twin's qparams
  float range_lo = 0.0f, range_hi = 0.0f;  // scale·(-128 - zp) .. scale·(127 - zp)
  Histogram histogram;
  uint64_t below = 0, above = 0;  // elements quantization saturates at -128 / 127
  double clip_energy = 0.0;       // sum over those of (fake_quant(r) - r)^2
  double rounding_energy = 0.0;   // sum over the others of (fake_quant(r) - r)^2

  explicit TensorHistogram(int max_bins) : histogram(max_bins) {}
  uint64_t count() const { return histogram.total(); }
  double clipped_fraction() const;
  double clip_mse() const;      // clip_energy / count
  double rounding_mse() const;  // rounding_energy / count
  void add(const float* values, int64_t count);
};

class TensorHistogramProfiler final : public ExecutionHook {
 public:
  static constexpr int kDefaultBins = 128;
  // `reference` is the fp32 graph the session runs; `tested` the int8 graph whose qparams give
  // the ranges.
  TensorHistogramProfiler(const Graph& reference, const Graph& tested, int max_bins = kDefaultBins);

  void before(const NodeEvent& event) override;
  void after(const NodeEvent& event) override;

  const std::vector<TensorHistogram>& tensors() const { return tensors_; }
  const TensorHistogram* find(const std::string& value) const;

 private:
  std::vector<TensorHistogram> tensors_;
  std::vector<std::vector<std::pair<size_t, size_t>>> outputs_at_node_;  // (output, tensor)
  std::vector<std::vector<std::pair<size_t, size_t>>> inputs_at_node_;
};

struct CodeHistogram {
  std::string value;                   // "v.q"
  std::array<uint64_t, 256> counts{};  // counts[code + 128]
  uint64_t total() const;
  int levels_used() const;  // codes seen at least once
};

class CodeHistogramProfiler final : public ExecutionHook {
 public:
  // `tested` must be the graph the session runs.
  explicit CodeHistogramProfiler(const Graph& tested);

  void after(const NodeEvent& event) override;

  const std::vector<CodeHistogram>& values() const { return values_; }
  const CodeHistogram* find(const std::string& value) const;

 private:
  std::vector<CodeHistogram> values_;
  std::vector<std::vector<std::pair<size_t, size_t>>> outputs_at_node_;
};

}  // namespace octet::quant
