#pragma once
// Edits of an int8 graph that undo one layer's quantization, for sensitivity analysis: what the
// model would be if that one layer stayed fp32, or if one activation had another range. They
// work on the int8 graph itself (a .oct as saved, whatever its history: edited qparams, PTQ
// passes), with the fp32 graph it was quantized from supplying float weights.
#include <string>

#include "graph/graph.hpp"
#include "quant/observer.hpp"

namespace octet::quant {

// `node` (by name) runs in fp32, as `octet quantize --keep-float` would leave it: its int8
// inputs are dequantized, the fp32 node of `reference` (float weights, fused activation) runs,
// and its output is quantized again with the same qparams for int8 consumers (a graph output
// stays float). Throws octet::Error if either graph lacks the node, or it is not int8.
Graph keep_node_float(const Graph& tested, const Graph& reference, const std::string& node);

// The int8 value `value` ("v.q") gets the qparams of `range` (activation scheme per
// `symmetric`). Its producer must set its scale (QConv, QGemm, QAdd, QuantizeLinear); ops that
// pass codes through (MaxPool, Flatten, Reshape, average pools) downstream get the same qparams,
// and the int32 biases of QConv/QGemm consumers are rescaled to the new input scale.
Graph rerange_activation(const Graph& tested, const std::string& value, Range range,
                         bool symmetric);

// Whether an int8 op copies or averages codes without requantizing (its output shares its
// input's qparams).
bool passes_codes_through(const std::string& op);

}  // namespace octet::quant
