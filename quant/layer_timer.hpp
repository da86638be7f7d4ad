#pragma once
// The System profiler's clock: wall time of every node, from the end of the last before() hook
// to the first after() hook — attach it alone, or last, so that other hooks' work is not timed
// (the profile driver times separate runs with only this hook attached).
//
// Per node: count, sum, minimum, and a fixed log-scale histogram of durations (32 bins per
// octave from 1 ns, 1.1% resolution) from which the median comes: bounded memory whatever the
// number of runs.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "graph/execution_hook.hpp"
#include "graph/graph.hpp"

namespace octet::quant {

class DurationHistogram {
 public:
  static constexpr int kBinsPerOctave = 32;
  static constexpr int kOctaves = 42;  // 1 ns .. about 73 minutes
  void add(double seconds);
  uint64_t count() const { return count_; }
  double sum_seconds() const { return sum_; }
  double min_seconds() const { return count_ ? min_ : 0.0; }
  double mean_seconds() const { return count_ ? sum_ / static_cast<double>(count_) : 0.0; }
  // The median, as the geometric centre of the bin holding it (within 1.1%); 0 when empty.
  double median_seconds() const;

 private:
  std::vector<uint32_t> bins_ = std::vector<uint32_t>(kBinsPerOctave * kOctaves, 0);
  uint64_t count_ = 0;
  double sum_ = 0.0, min_ = 0.0;
};

struct NodeTime {
  std::string node, op;
  std::string backend;  // which backend ran it (a fallback shows here)
  DurationHistogram durations;
};

class LayerTimer final : public ExecutionHook {
 public:
  // `graph` must be the graph the session runs.
  explicit LayerTimer(const Graph& graph);

  void before(const NodeEvent& event) override;
  void after(const NodeEvent& event) override;

  const std::vector<NodeTime>& nodes() const { return nodes_; }  // by node index

 private:
  std::vector<NodeTime> nodes_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace octet::quant
