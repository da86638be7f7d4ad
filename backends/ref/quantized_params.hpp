#pragma once
// Reads a quantized node's qparams from the graph and turns them into the integer parameters
// its kernel needs. Done once, when the kernel is prepared.
#include <vector>

#include "graph/graph.hpp"
#include "kernels/ref/qconv2d_s8_ref.hpp"
#include "quant/qparams.hpp"

namespace octet::ref {

quant::AffineParams affine_params(const Graph& graph, const std::string& value);

// Output stage (per-channel multipliers, zero point, fused clamp) of a QConv/QGemm whose
// weight has `channels` output channels. The vectors own what the stage points to.
struct OutputStageStorage {
  std::vector<kernels::QuantizedMultiplier> multipliers;
  std::vector<int32_t> bias;
  bool per_channel = false;
  int32_t output_zero_point = 0;
  quant::QuantizedRange clamp;
  // A view for the kernels; valid while this object lives.
  kernels::QuantizedOutputStage stage() const {
    return {bias.empty() ? nullptr : bias.data(), multipliers.data(), per_channel, output_zero_point,
            clamp.low, clamp.high};
  }
};
OutputStageStorage make_output_stage(const Graph& graph, const Node& node, int64_t channels);

}  // namespace octet::ref
