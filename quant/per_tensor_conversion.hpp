#pragma once
// Per-channel int8 weights to per-tensor, for targets with one requantization multiplier per
// layer (the NPU): each QConv/QGemm's weights are dequantized with their channel scales and
// requantized with one scale for the layer (symmetric, the model's weight bits), and its int32
// bias is recomputed in the new accumulator scale (input scale x new weight scale). The
// requantization multipliers follow from the new qparams when kernels are prepared. Costs
// accuracy where channel ranges differ a lot; quantizing with per-tensor weights from the fp32
// model is the better fix when the fp32 model is at hand.
#include <string>
#include <vector>

#include "graph/graph.hpp"

namespace octet::quant {

// Returns the converted graph; `converted` (may be null) receives the labels of the layers
// that changed. A graph without per-channel weights comes back unchanged.
Graph convert_weights_to_per_tensor(const Graph& graph,
                                    std::vector<std::string>* converted = nullptr);

}  // namespace octet::quant
