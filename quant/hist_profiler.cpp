#include "quant/hist_profiler.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "graph/error.hpp"
#include "quant/quantizer.hpp"
#include "quant/value_twins.hpp"

namespace octet::quant {

double TensorHistogram::clipped_fraction() const {
  const uint64_t n = count();
  return n ? static_cast<double>(below + above) / static_cast<double>(n) : 0.0;
}

double TensorHistogram::clip_mse() const {
  const uint64_t n = count();
  return n ? clip_energy / static_cast<double>(n) : 0.0;
}

double TensorHistogram::rounding_mse() const {
  const uint64_t n = count();
  return n ? rounding_energy / static_cast<double>(n) : 0.0;
}

void TensorHistogram::add(const float* values, int64_t count) {
  histogram.add(values, static_cast<size_t>(count));
  double clip = 0.0, rounding = 0.0;
  const float zero_point = static_cast<float>(params.zero_point);
  for (int64_t i = 0; i < count; ++i) {
    const float r = values[i];
    // Clipped = saturated by quantization: the rounded code falls outside [-128, 127], as in
    // kernels::quantize_one_s8. (A value within half an LSB beyond the range is only rounded.)
    const float code = std::nearbyint(r / params.scale) + zero_point;
    const double error = static_cast<double>(fake_quantize_value(r, params)) - r;
    if (code < static_cast<float>(kInt8Min) || code > static_cast<float>(kInt8Max)) {
      clip += error * error;
      (code < 0.0f ? below : above) += 1;
    } else {
      rounding += error * error;
    }
  }
  clip_energy += clip;
  rounding_energy += rounding;
}

TensorHistogramProfiler::TensorHistogramProfiler(const Graph& reference, const Graph& tested,
                                                 int max_bins)
    : outputs_at_node_(reference.nodes.size()), inputs_at_node_(reference.nodes.size()) {
  std::map<std::string, size_t> index;
  for (const auto& name : comparable_values(reference, tested)) {
    auto q = tested.quant.find(int8_twin_name(name));
    if (q == tested.quant.end() || q->second.scales.size() != 1) continue;
    TensorHistogram tensor(max_bins);
    tensor.value = name;
    tensor.twin = int8_twin_name(name);
    tensor.params = {q->second.scales[0], q->second.zero_points[0]};
    tensor.range_lo = dequantize_value(static_cast<int8_t>(kInt8Min), tensor.params);
    tensor.range_hi = dequantize_value(static_cast<int8_t>(kInt8Max), tensor.params);
    index[name] = tensors_.size();
    tensors_.push_back(std::move(tensor));
  }
  for (size_t n = 0; n < reference.nodes.size(); ++n) {
    const Node& node = reference.nodes[n];
    for (size_t o = 0; o < node.outputs.size(); ++o) {
      auto it = index.find(node.outputs[o]);
      if (it != index.end()) outputs_at_node_[n].emplace_back(o, it->second);
    }
  }
  for (const auto& [node, inputs] : graph_input_first_readers(reference))
    for (const auto& [position, name] : inputs) {
      auto it = index.find(name);
      if (it != index.end()) inputs_at_node_[node].emplace_back(position, it->second);
    }
}

void TensorHistogramProfiler::before(const NodeEvent& event) {
  if (event.node_index >= inputs_at_node_.size()) return;
  for (const auto& [position, tensor] : inputs_at_node_[event.node_index]) {
    const TensorView& view = event.inputs[position];
    if (view.dtype != DType::f32)
      throw Error("profile: histogram of '" + tensors_[tensor].value + "' expects f32");
    tensors_[tensor].add(view.as<const float>(), view.elements());
  }
}

void TensorHistogramProfiler::after(const NodeEvent& event) {
  if (event.node_index >= outputs_at_node_.size()) return;
  for (const auto& [position, tensor] : outputs_at_node_[event.node_index]) {
    const TensorView& view = event.outputs[position];
    if (event.node.outputs[position] != tensors_[tensor].value || view.dtype != DType::f32)
      throw Error("profile: the histogram hook is attached to a session of another model (" +
                  event.node.label() + ")");
    tensors_[tensor].add(view.as<const float>(), view.elements());
  }
}

const TensorHistogram* TensorHistogramProfiler::find(const std::string& value) const {
  for (const auto& tensor : tensors_)
    if (tensor.value == value) return &tensor;
  return nullptr;
}

uint64_t CodeHistogram::total() const {
  uint64_t total = 0;
  for (uint64_t c : counts) total += c;
  return total;
}

int CodeHistogram::levels_used() const {
  return static_cast<int>(
      std::count_if(counts.begin(), counts.end(), [](uint64_t c) { return c != 0; }));
}

CodeHistogramProfiler::CodeHistogramProfiler(const Graph& tested)
    : outputs_at_node_(tested.nodes.size()) {
  for (size_t n = 0; n < tested.nodes.size(); ++n) {
    const Node& node = tested.nodes[n];
    for (size_t o = 0; o < node.outputs.size(); ++o) {
      const std::string& value = node.outputs[o];
      if (value.empty() || tested.value_info(value).dtype != DType::i8) continue;
      outputs_at_node_[n].emplace_back(o, values_.size());
      CodeHistogram histogram;
      histogram.value = value;
      values_.push_back(histogram);
    }
  }
}

void CodeHistogramProfiler::after(const NodeEvent& event) {
  if (event.node_index >= outputs_at_node_.size()) return;
  for (const auto& [position, index] : outputs_at_node_[event.node_index]) {
    const TensorView& view = event.outputs[position];
    CodeHistogram& histogram = values_[index];
    if (event.node.outputs[position] != histogram.value || view.dtype != DType::i8)
      throw Error("profile: the code histogram hook is attached to a session of another model (" +
                  event.node.label() + ")");
    const int8_t* codes = view.as<const int8_t>();
    for (int64_t i = 0, n = view.elements(); i < n; ++i)
      ++histogram.counts[static_cast<size_t>(codes[i] + 128)];
  }
}

const CodeHistogram* CodeHistogramProfiler::find(const std::string& value) const {
  for (const auto& histogram : values_)
    if (histogram.value == value) return &histogram;
  return nullptr;
}

}  // namespace octet::quant
