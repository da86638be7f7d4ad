#pragma once
// Cross-Layer Equalization (Nagel et al. 2019, "Data-Free Quantization Through Weight
// Equalization and Bias Correction"), a pass on the fp32 graph after BatchNorm folding and
// activation fusion.
//
// For a pair  A (Conv/Gemm) -> [ReLU] -> B (Conv/Gemm)  and any s_c > 0,
//   B(act(A(x))) with A's output channel c divided by s_c and B's input channel c multiplied by
//   s_c
// computes the same function, because act(y / s) = act(y) / s for ReLU (positively
// homogeneous). Choosing s_c = sqrt(r1_c / r2_c), with r1_c the absmax of A's output channel c
// and r2_c the absmax of B's input channel c, makes both ranges sqrt(r1_c * r2_c): channels of
// one layer no longer differ by orders of magnitude, which is what per-tensor weight quantization
// (one scale for the whole layer) needs.
//
// A pair qualifies only if the value between A and B has exactly one reader (B, as its data
// input) and is not a graph output: a value read by an Add (a residual skip) or by several nodes
// would need every reader rescaled consistently, and the skip path's other operand too, so such
// values are left alone (and reported). A fused activation must be positively homogeneous:
// none, Relu, or Clip with min 0 (or -inf) and max +inf. ReLU6 (Clip 0..c) is not: scaling
// through it exactly would need a per-channel clip bound c / s_c, which neither the graph
// attribute nor a per-tensor NPU can express. By default such a clip is relaxed to a ReLU, as
// Nagel et al. (section 5) and AIMET do for MobileNetV2: the equalized function then differs from
// the original only where an activation exceeded c (on the bundled MobileNetV2 this costs 0.15
// points of fp32 top-1 and is what lets per-tensor weights work at all, see
// docs/per_tensor_ptq.md); `relax_relu6 = false` skips such pairs instead. Grouped and depthwise
// convolutions are handled: an input channel of B maps to the weights of its group's output
// channels only.
#include <string>
#include <vector>

#include "graph/graph.hpp"

namespace octet::quant {

// Two nodes whose shared channels can be rescaled without changing the graph's function.
struct ScalablePair {
  size_t first = 0;   // index of the producing Conv/Gemm in graph.nodes
  size_t second = 0;  // index of the consuming Conv/Gemm
  std::string value;  // the value between them
  int64_t channels = 0;
};

// Every qualifying pair, in node order. `skipped` (optional) receives one line per Conv/Gemm
// output that was considered and refused, saying why ("Conv 'a' -> 'v': read by 2 nodes").
// The graph must be shape-inferred (a Model's graph is).
// With `accept_relu6`, a first node with a fused Clip(0, c) qualifies (equalize_cross_layer
// relaxes the clip before scaling).
std::vector<ScalablePair> find_scalable_pairs(const Graph& graph, std::vector<std::string>* skipped = nullptr,
                                              bool accept_relu6 = false);

// Absmax of each output channel of the pair's first node and of each input channel of its
// second node (one value per shared channel).
std::vector<float> output_channel_ranges(const Graph& graph, const Node& node);
std::vector<float> input_channel_ranges(const Graph& graph, const Node& node);

// Divides output channel c of pair.first (weights and bias) by scales[c] and multiplies input
// channel c of pair.second by scales[c]. Every scale must be finite and > 0. The changed
// weights are new tensors (named after the node's output value): a weight shared with another
// node, or with another copy of the graph, is never changed under it.
void scale_pair_channels(Graph& graph, const ScalablePair& pair, const std::vector<float>& scales);

struct EqualizationOptions {
  // Chains (A -> B -> C) share a layer between two pairs, so equalizing one pair unbalances the
  // other: sweep all pairs until no scale moves more than `tolerance` from 1.
  int max_iterations = 50;
  double tolerance = 1e-3;
  // Relax a fused Clip(0, c) between a pair to a ReLU so the pair can be equalized (see above).
  bool relax_relu6 = true;
};

struct EqualizationReport {
  std::vector<std::string> equalized;  // "Conv 'a' -> Conv 'b' (32 channels)"
  std::vector<std::string> skipped;    // as find_scalable_pairs reports them
  std::vector<std::string> relaxed;    // "Conv 'a': Clip [0, 6] -> Relu"
  int iterations = 0;                  // sweeps over all pairs until the scales settled
};

// Equalizes every qualifying pair in place. Channels where either range is 0 (a dead channel)
// keep scale 1.
EqualizationReport equalize_cross_layer(Graph& graph, const EqualizationOptions& options = {});

}  // namespace octet::quant
