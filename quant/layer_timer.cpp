#include "quant/layer_timer.hpp"

#include <algorithm>
#include <cmath>

namespace octet::quant {

void DurationHistogram::add(double seconds) {
  const double ns = std::max(seconds * 1e9, 1.0);
  const int bin = std::min(static_cast<int>(std::floor(std::log2(ns) * kBinsPerOctave)),
                           static_cast<int>(bins_.size()) - 1);
  ++bins_[static_cast<size_t>(bin)];
  min_ = count_ ? std::min(min_, seconds) : seconds;
  ++count_;
  sum_ += seconds;
}

double DurationHistogram::median_seconds() const {
  if (count_ == 0) return 0.0;
  const uint64_t target = (count_ + 1) / 2;  // the lower median for an even count
  uint64_t seen = 0;
  for (size_t bin = 0; bin < bins_.size(); ++bin) {
    seen += bins_[bin];
    if (seen >= target) return std::exp2((static_cast<double>(bin) + 0.5) / kBinsPerOctave) * 1e-9;
  }
  return 0.0;
}

LayerTimer::LayerTimer(const Graph& graph) {
  for (const Node& node : graph.nodes) nodes_.push_back({node.name, node.op, "", {}});
}

void LayerTimer::before(const NodeEvent&) {
  start_ = std::chrono::steady_clock::now();
}

void LayerTimer::after(const NodeEvent& event) {
  const auto end = std::chrono::steady_clock::now();
  if (event.node_index >= nodes_.size()) return;
  NodeTime& time = nodes_[event.node_index];
  if (time.backend.empty() && event.backend) time.backend = event.backend;
  time.durations.add(std::chrono::duration<double>(end - start_).count());
}

}  // namespace octet::quant
