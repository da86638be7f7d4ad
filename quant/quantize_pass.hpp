#pragma once
// The "module swap": an optimized fp32 graph plus observed activation ranges becomes an int8
// graph. Conv → QConv (int8 weights, int32 bias, requantization, fused ReLU/ReLU6), Gemm →
// QGemm, Add → QAdd (both inputs rescaled to the output scale), MaxPool/Flatten/Reshape and
// nearest Resize run on int8 unchanged, AveragePool/GlobalAveragePool → integer-rounding versions; QuantizeLinear
// goes where float values enter the int8 region and DequantizeLinear where they leave it.
// Ops with no int8 form (Softmax, ...) stay fp32 between a Dequantize and a Quantize.
#include <functional>
#include <string>
#include <vector>

#include "graph/graph.hpp"
#include "quant/observer.hpp"

namespace octet::quant {

enum class QuantizationMode { static_int8, dynamic_int8 };

struct QuantizeOptions {
  QuantizationMode mode = QuantizationMode::static_int8;
  std::string observer = "minmax";
  bool per_channel_weights = true;
  bool symmetric_activations = false;
  // 8: weights in [-127, 127]; 7: in [-63, 63], exact on the AVX2 vpmaddubsw fast path (the
  // 8-bit form runs there too, through an exact but slower split). Recorded in the model.
  int weight_bits = 8;
  // Nodes (by name) left in fp32 whatever their op.
  std::vector<std::string> keep_float;
  // The PTQ passes around the swap, run by octet::quantize_model (engine/quantize.hpp), not by
  // quantize_static: Cross-Layer Equalization on the fp32 graph before calibration
  // (quant/cross_layer_equalization.hpp), empirical bias correction of the int8 graph after it
  // (engine/bias_correction.hpp, static mode only).
  bool cross_layer_equalization = false;
  // With CLE: relax ReLU6 between equalized pairs to ReLU (true), or leave such pairs alone.
  bool cle_relax_relu6 = true;
  bool bias_correction = false;
  // What the model is for, recorded in its metadata: "cpu", or "npu" (a per-tensor-only
  // accelerator, which needs per_channel_weights = false).
  std::string target = "cpu";
};

// The range of a float value as calibration saw it.
using RangeProvider = std::function<Range(const std::string& value, const RangeRequest& request)>;

struct QuantizeReport {
  size_t quantized_nodes = 0;   // nodes now running in int8
  size_t float_nodes = 0;       // nodes left in fp32 (excluding Quantize/Dequantize)
  size_t quantize_nodes = 0;    // QuantizeLinear inserted
  size_t dequantize_nodes = 0;  // DequantizeLinear inserted
  int64_t saturated_bias_values = 0;
  std::vector<std::string> float_node_reasons;  // "Softmax 'prob': no int8 kernel"
};

// The float value that int8 value `v` of quantize_static's output stands for: a QConv writing
// "y.q" computes what the float Conv writing "y" did. Returns `v` unchanged for other names.
std::string float_value_name(const std::string& int8_value);

// Static: activation qparams from `ranges`. The input graph must be shape-inferred (as a
// Model's graph is). Throws octet::Error naming the node on anything it cannot handle.
Graph quantize_static(const Graph& graph, const RangeProvider& ranges, const QuantizeOptions& options,
                      QuantizeReport* report = nullptr);

// Dynamic: Conv/Gemm get int8 weights; their activations are quantized per inference at run
// time (DynQConv/DynQGemm). Everything else stays fp32. No calibration.
Graph quantize_dynamic(const Graph& graph, const QuantizeOptions& options, QuantizeReport* report = nullptr);

}  // namespace octet::quant
