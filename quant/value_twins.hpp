#pragma once
// How the values of an int8 graph relate to those of the fp32 graph it was quantized from: the
// quantization pass names the int8 version of fp32 value `v` "v.q" and keeps float values'
// names, so a tested value's reference is found by name alone.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "graph/graph.hpp"

namespace octet::quant {

// "v.q" for "v" (quantize_pass.cpp's naming).
std::string int8_twin_name(const std::string& float_value);
// The fp32 value a tested value stands for: "v" for "v.q", the name itself otherwise.
std::string reference_name(const std::string& tested_value);

// The non-constant f32 values of `reference` that `tested` also holds (as v or v.q): what a
// profiler can compare. In `reference`'s node order, graph inputs first.
std::vector<std::string> comparable_values(const Graph& reference, const Graph& tested);

// Graph inputs are not produced by any node: a hook sees them in before() of the first node that
// reads them. Node index -> (input position, input name) for those first readers.
std::map<size_t, std::vector<std::pair<size_t, std::string>>> graph_input_first_readers(
    const Graph& graph);

}  // namespace octet::quant
