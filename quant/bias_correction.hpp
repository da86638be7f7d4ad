#pragma once
// The per-layer arithmetic of empirical bias correction (Nagel et al. 2019, §4.2): the mean
// output of a linear layer before its fused activation, for the float layer and for its int8
// version, and the int32 bias update that removes their difference. engine/bias_correction runs
// the data; this file only needs a graph and mean inputs.
//
// Why mean inputs suffice: a Conv or Gemm is affine in its input (zero padding included), so the
// mean of its outputs over samples is its output on the mean input; averaging that over output
// positions gives the per-channel mean. So the correction sees the layer before its clamp (a
// ReLU would hide negative errors) without any hook inside the kernels.
#include <vector>

#include "graph/graph.hpp"

namespace octet::quant {

// Per output channel: the mean over batch and positions of `node`'s output before its fused
// activation when its input is `mean_input` (shaped as the node's data input).
//   Conv / Gemm: fp32 weights and bias as stored (Gemm's alpha, beta and transB applied).
//   QConv / QGemm: int8 weights and int32 bias dequantized with the graph's qparams;
//   `mean_input` is then the mean of the dequantized int8 input.
// Throws octet::Error naming the node for any other op or a malformed layer.
std::vector<double> mean_preactivation(const Graph& graph, const Node& node, const Tensor& mean_input);

// Subtracts `error[c]` (real units, one per output channel) from the int32 bias of a QConv or
// QGemm, in units of its accumulator scale s_x * s_w[c], rounded to nearest. The bias tensor is
// replaced by a new one (the old one may be shared or mapped read-only). Returns how many values
// saturated int32.
int64_t subtract_from_int32_bias(Graph& graph, Node& node, const std::vector<double>& error);

}  // namespace octet::quant
