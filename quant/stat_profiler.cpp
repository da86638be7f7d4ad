#include "quant/stat_profiler.hpp"

#include "graph/error.hpp"
#include "quant/quantizer.hpp"
#include "quant/value_twins.hpp"

namespace octet::quant {

void accumulate_int8_error(const int8_t* codes, const float* reference, int64_t count,
                           AffineParams params, ErrorStats& stats) {
  // One batch accumulated locally and merged once: the same sums as element-wise adds into
  // `stats`, but the hot loop touches only registers and this stack object.
  ErrorStats batch;
  for (int64_t i = 0; i < count; ++i) {
    const float r = reference[i];
    batch.add(r, dequantize_value(codes[i], params), codes[i] != quantize_value(r, params));
  }
  stats.merge(batch);
}

void accumulate_float_error(const float* tested, const float* reference, int64_t count,
                            ErrorStats& stats) {
  ErrorStats batch;
  for (int64_t i = 0; i < count; ++i) batch.add(reference[i], tested[i], tested[i] != reference[i]);
  stats.merge(batch);
}

StatProfiler::StatProfiler(const Graph& tested, const ReferenceActivations& reference)
    : reference_(reference), targets_(tested.nodes.size()) {
  for (size_t n = 0; n < tested.nodes.size(); ++n) {
    const Node& node = tested.nodes[n];
    for (size_t o = 0; o < node.outputs.size(); ++o) {
      const std::string& value = node.outputs[o];
      if (value.empty()) continue;
      const int ref = reference.index_of(reference_name(value));
      const DType dtype = tested.value_info(value).dtype;
      if (ref < 0 || (dtype != DType::i8 && dtype != DType::f32)) continue;
      LayerError layer;
      layer.node_index = n;
      layer.node = node.name;
      layer.op = node.op;
      layer.value = value;
      layer.reference = reference_name(value);
      layer.int8 = dtype == DType::i8;
      if (layer.int8) {
        auto q = tested.quant.find(value);
        if (q == tested.quant.end() || q->second.scales.size() != 1)
          throw Error("profile: int8 value '" + value + "' of " + node.label() +
                      " has no per-tensor qparams");
        layer.params = {q->second.scales[0], q->second.zero_points[0]};
      }
      targets_[n].push_back({o, layers_.size(), ref});
      layers_.push_back(std::move(layer));
    }
  }
}

void StatProfiler::after(const NodeEvent& event) {
  if (event.node_index >= targets_.size()) return;
  for (const Target& target : targets_[event.node_index]) {
    LayerError& layer = layers_[target.layer];
    const TensorView& out = event.outputs[target.output];
    if (event.node.outputs[target.output] != layer.value ||
        out.elements() != reference_.elements(target.reference))
      throw Error("profile: the Stat profiler is attached to a session of another model (" +
                  event.node.label() + ")");
    if (layer.int8)
      accumulate_int8_error(out.as<const int8_t>(), reference_.data(target.reference),
                            out.elements(), layer.params, layer.error);
    else
      accumulate_float_error(out.as<const float>(), reference_.data(target.reference),
                             out.elements(), layer.error);
  }
}

const LayerError* StatProfiler::find_node(const std::string& node_name) const {
  for (const auto& layer : layers_)
    if (layer.node == node_name) return &layer;
  return nullptr;
}

}  // namespace octet::quant
