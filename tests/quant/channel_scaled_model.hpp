#pragma once
// The inverse of Cross-Layer Equalization, for tests: a graph with the same fp32 function whose
// channels within a layer are `spread` apart in range. In every pair CLE could equalize
// (Conv -> ReLU -> Conv, ...), output channel c of the first layer is rescaled so that its
// absmax becomes g * spread^(t_c - 1/2), g the geometric mean of the layer's channel ranges and
// t_c spread evenly over [0, 1]; input channel c of the second layer is divided by the same
// factor. So the first layer's largest channel is exactly `spread` times its smallest, and the
// second layer's input channels are unbalanced inversely. Neighbouring channels get far-apart
// targets. Per-tensor weights (one scale per layer) then round the small channels of both
// layers, and their activations, to a few levels.
#include <cmath>
#include <vector>

#include "graph/graph.hpp"
#include "quant/cross_layer_equalization.hpp"

namespace octet::test {

// spread^(t_c - 1/2) for each channel, t_c running over [0, 1] in a shuffled order.
inline std::vector<double> spread_targets(int64_t channels, double spread) {
  std::vector<double> targets(static_cast<size_t>(channels), 1.0);
  if (channels < 2) return targets;
  for (int64_t c = 0; c < channels; ++c) {
    // c -> (c * 7) mod channels visits every slot when channels is not a multiple of 7, and
    // puts neighbours far apart; otherwise fall back to c (still every slot).
    const int64_t slot = channels % 7 == 0 ? c : (c * 7) % channels;
    const double t = static_cast<double>(slot) / static_cast<double>(channels - 1);
    targets[static_cast<size_t>(c)] = std::pow(spread, t - 0.5);
  }
  return targets;
}

// `graph` must be shape-inferred and optimized (BatchNorm folded, activations fused), as a
// Model's graph is. Returns how many pairs were scaled through `pairs` (optional).
inline Graph channel_scaled_model(Graph graph, double spread = 100.0, size_t* pairs = nullptr) {
  const std::vector<quant::ScalablePair> found = quant::find_scalable_pairs(graph);
  for (const quant::ScalablePair& pair : found) {
    const std::vector<float> ranges = quant::output_channel_ranges(graph, graph.nodes[pair.first]);
    double log_sum = 0.0;
    size_t live = 0;
    for (float r : ranges) {
      if (!(r > 0.0f)) continue;
      log_sum += std::log(static_cast<double>(r));
      ++live;
    }
    const double geometric_mean = live ? std::exp(log_sum / static_cast<double>(live)) : 1.0;
    const std::vector<double> targets = spread_targets(pair.channels, spread);
    // scale_pair_channels divides the first layer's channel c by s_c: s_c = r_c / target_c.
    std::vector<float> scales(ranges.size(), 1.0f);
    for (size_t c = 0; c < ranges.size(); ++c)
      if (ranges[c] > 0.0f) scales[c] = static_cast<float>(ranges[c] / (geometric_mean * targets[c]));
    quant::scale_pair_channels(graph, pair, scales);
  }
  if (pairs) *pairs = found.size();
  return graph;
}

}  // namespace octet::test
