#include "quant/qadd_diagnostics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "graph/error.hpp"

namespace octet::quant {
namespace {

AffineParams per_tensor(const Graph& graph, const std::string& value, const Node& node) {
  auto q = graph.quant.find(value);
  if (q == graph.quant.end() || q->second.scales.size() != 1)
    throw Error("profile: " + node.label() + " input '" + value + "' has no per-tensor qparams");
  return {q->second.scales[0], q->second.zero_points[0]};
}

}  // namespace

std::vector<QAddDiagnostic> qadd_diagnostics(const Graph& reference, const Graph& tested) {
  std::vector<QAddDiagnostic> result;
  for (const Node& add : reference.nodes) {
    if (add.op != "Add") continue;
    QAddDiagnostic d;
    d.node = add.name;
    auto it = std::find_if(tested.nodes.begin(), tested.nodes.end(),
                           [&](const Node& n) { return n.name == add.name; });
    if (it == tested.nodes.end()) {
      result.push_back(d);
      continue;
    }
    const Node& node = *it;
    d.tested_op = node.op;
    d.a = node.inputs.at(0);
    d.b = node.inputs.at(1);
    d.output = node.outputs.at(0);
    d.int8 = node.op == "QAdd";
    if (!d.int8) {
      result.push_back(d);
      continue;
    }
    d.a_params = per_tensor(tested, d.a, node);
    d.b_params = per_tensor(tested, d.b, node);
    d.output_params = per_tensor(tested, d.output, node);
    const float fine = std::min(d.a_params.scale, d.b_params.scale);
    const float coarse = std::max(d.a_params.scale, d.b_params.scale);
    d.scale_ratio = static_cast<double>(coarse) / fine;
    d.bits_lost = std::log2(d.scale_ratio);
    d.finer = d.a_params.scale <= d.b_params.scale ? d.a : d.b;
    d.finer_bits_below_output = std::log2(static_cast<double>(d.output_params.scale) / fine);
    const float inf = std::numeric_limits<float>::infinity();
    const QuantizedRange clamp =
        node.attrs.has("activation")
            ? quantized_clamp(d.output_params, node.attrs.get_float("activation_min", -inf),
                              node.attrs.get_float("activation_max", inf))
            : QuantizedRange{};
    d.params = make_qadd_params(d.a_params, d.b_params, d.output_params, clamp.low, clamp.high);
    result.push_back(d);
  }
  return result;
}

}  // namespace octet::quant
