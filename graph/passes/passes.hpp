#pragma once
// Graph-to-graph rewrites for inference. Each returns how many rewrites it made.
#include <cstddef>

#include "graph/graph.hpp"

namespace octet {

// Conv followed by BatchNormalization (inference) becomes one Conv with rescaled weights and
// bias. Only when the Conv output feeds nothing else and weights are constants.
size_t fold_batchnorm(Graph& graph);

// Identity and inference-mode Dropout pass values through unchanged: rewire their consumers.
size_t remove_identity(Graph& graph);

// Relu, or Clip with constant bounds, directly after Conv, Gemm or Add becomes the producer's
// "activation" attribute (activation_min/activation_max), so kernels clamp in their epilogue
// (and a quantized residual block ends in one QAdd with a fused ReLU).
size_t fuse_activation(Graph& graph);

// All of the above, in the order that lets each enable the next, then shape inference.
void optimize_for_inference(Graph& graph);

}  // namespace octet
