#pragma once
// What the configured NPU refuses in a node, and why: the one rule shared by the backend's
// supports() (hence the executed partition) and `octet lint --target npu`, so the lint's
// prediction and the plan cannot disagree.
#include <optional>
#include <string>
#include <vector>

#include "backends/npu_emu/npu_config.hpp"
#include "graph/graph.hpp"

namespace octet::npu {

enum class RefusalKind {
  host_op,         // float op or the Quantize/Dequantize boundary: always the host's
  unsupported_op,  // int8 op the config does not list
  per_channel_weights,
  asymmetric_activations,  // config takes symmetric activations only
  weight_range,            // weight codes outside [weight_min, weight_max]
  limit,                   // kernel size, stride, dilation, groups, sizes outside the config
};
const char* refusal_kind_name(RefusalKind kind);

struct Refusal {
  RefusalKind kind;
  std::string text;  // "kernel 9x9 outside 1..7"
};

// Worst case of a Conv/Gemm accumulator: |bias| + K * max|x - zp_x| * max|w|, against the
// accumulator's range. Reported, not refused: the NPU runs the layer and saturates.
struct AccumulatorBound {
  int64_t depth = 0;           // K: products summed per output
  int64_t max_abs_input = 0;   // max |x - zp_x| = max(127 - zp_x, zp_x + 128)
  int64_t max_abs_weight = 0;  // from the weight codes
  int64_t max_abs_bias = 0;
  int64_t bound = 0;
  int32_t bits_needed = 0;  // smallest signed width holding +-bound
  int32_t bits = 32;        // the config's accumulator
  bool overflow_risk() const { return bits_needed > bits; }
};

struct LayerCheck {
  std::vector<Refusal> refusals;  // empty: runs on the NPU
  std::optional<AccumulatorBound> accumulator;
  bool on_npu() const { return refusals.empty(); }
  std::string reasons() const;  // refusals joined with "; "
};

LayerCheck check_layer(const NpuConfig& config, const Graph& graph, const Node& node);

// Smallest two's-complement width holding every value in [-bound, bound].
int32_t signed_bits_for(int64_t bound);

// The QConv/QGemm layers with per-channel weights ("QConv 'layer1.conv'"), in graph order;
// the first of them, or "" if none.
std::vector<std::string> per_channel_layers(const Graph& graph);
std::string first_per_channel_layer(const Graph& graph);

}  // namespace octet::npu
