#include "quant/per_tensor_conversion.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "graph/error.hpp"
#include "quant/qparams.hpp"

namespace octet::quant {
namespace {

int32_t weight_max_of(const Graph& graph) {
  auto it = graph.metadata.find("octet.quantization.weight_bits");
  return weight_max_for_bits(it != graph.metadata.end() && it->second == "7" ? 7 : 8);
}

}  // namespace

Graph convert_weights_to_per_tensor(const Graph& graph, std::vector<std::string>* converted) {
  Graph out = graph;
  const int32_t max_code = weight_max_of(graph);
  std::set<std::string> done;  // a weight shared by two layers is converted once
  for (const Node& node : out.nodes) {
    if (node.op != "QConv" && node.op != "QGemm") continue;
    const std::string& weight_name = node.inputs[1];
    auto qit = out.quant.find(weight_name);
    if (qit == out.quant.end() || !qit->second.per_channel() || done.count(weight_name)) continue;
    const Tensor* weight = out.initializer(weight_name);
    if (!weight)
      throw Error(node.label() + ": weight must be a constant to convert it to per-tensor");
    const std::vector<float> channel_scales = qit->second.scales;
    const int64_t channels = weight->shape()[0];
    const int64_t per_channel = channels > 0 ? weight->elements() / channels : 0;
    if (static_cast<int64_t>(channel_scales.size()) != channels)
      throw Error(node.label() + ": per-channel weight scales do not match the output channels");

    // One scale for the largest real weight of the layer.
    const int8_t* codes = weight->data<int8_t>();
    double absmax = 0.0;
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t i = 0; i < per_channel; ++i)
        absmax = std::max(absmax, std::fabs(static_cast<double>(codes[c * per_channel + i]) *
                                            channel_scales[static_cast<size_t>(c)]));
    const float scale = choose_weight_scale(static_cast<float>(absmax), max_code);

    Tensor requantized(DType::i8, weight->shape());
    for (int64_t c = 0; c < channels; ++c) {
      const double ratio = static_cast<double>(channel_scales[static_cast<size_t>(c)]) / scale;
      for (int64_t i = 0; i < per_channel; ++i) {
        const double q = std::nearbyint(static_cast<double>(codes[c * per_channel + i]) * ratio);
        requantized.mutable_data<int8_t>()[c * per_channel + i] =
            static_cast<int8_t>(std::clamp<double>(q, -max_code, max_code));
      }
    }
    // Bias: real = b * s_x * s_w[c]; in the new scale s_x * s it is b * s_w[c] / s.
    if (node.has_input(2)) {
      const Tensor* bias = out.initializer(node.inputs[2]);
      if (!bias)
        throw Error(node.label() + ": bias must be a constant to convert it to per-tensor");
      Tensor rebased(DType::i32, bias->shape());
      for (int64_t c = 0; c < bias->elements(); ++c) {
        const double value = std::nearbyint(static_cast<double>(bias->data<int32_t>()[c]) *
                                            channel_scales[static_cast<size_t>(c)] / scale);
        rebased.mutable_data<int32_t>()[c] = static_cast<int32_t>(std::clamp<double>(
            value, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()));
      }
      out.initializers[node.inputs[2]] = std::move(rebased);
    }
    out.initializers[weight_name] = std::move(requantized);
    out.quant[weight_name] = QuantParams{{scale}, {0}, -1};
    done.insert(weight_name);
    if (converted) converted->push_back(node.label());
  }
  if (!done.empty())
    out.metadata["octet.quantization.weights"] = "per-tensor (converted from per-channel at load)";
  return out;
}

}  // namespace octet::quant
