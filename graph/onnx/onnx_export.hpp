#pragma once
// Octet int8 graph → standard QDQ ONNX model (opset 13, IR version 7), the form ONNX Runtime,
// TensorRT and OpenVINO read as "quantized": every int8 op of Octet becomes
//
//   DequantizeLinear(int8 inputs) → float op (Conv, Gemm, Add, pooling, reshape)
//     → fused Relu/Clip as its own node → QuantizeLinear(output qparams)
//
// with weights as int8 initializers + DequantizeLinear (per channel along axis 0 when Octet
// quantized them per channel), biases as int32 initializers + DequantizeLinear (scale
// s_x * s_w[c], zero point 0), and Octet's own QuantizeLinear/DequantizeLinear at the graph's
// inputs and outputs, so the model keeps its float inputs and outputs. Scales and zero points are
// Octet's, bit for bit; a float simulation of the exported graph matches Octet's integer
// kernels within the 1 LSB the numeric spec allows (fixed-point requantization vs float).
//
// Float nodes of a partly quantized graph (kept in fp32 on request) are exported as they are.
// Dynamic-mode graphs (DynQConv/DynQGemm: activations quantized at run time) have no QDQ form
// and are refused, as are fp32 graphs (nothing to export as QDQ).
#include <string>

#include "graph/graph.hpp"

namespace octet {

enum class QdqActivationType {
  u8,  // uint8 activations: u = q + 128, zero point + 128 (exactly the same real values)
  s8,  // int8 activations, Octet's own codes
};

// uint8 on x86: ONNX Runtime's MLAS runs QLinearConv/QGemm fastest as U8S8 (vpmaddubsw takes
// an unsigned operand); int8 elsewhere.
constexpr QdqActivationType default_qdq_activation_type() {
#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86)
  return QdqActivationType::u8;
#else
  return QdqActivationType::s8;
#endif
}

struct QdqExportOptions {
  QdqActivationType activations = default_qdq_activation_type();
};

const char* qdq_activation_type_name(QdqActivationType type);  // "u8" / "s8"

// The serialized onnx.ModelProto. Throws octet::Error for graphs it cannot export (dynamic
// quantization, fp32 graphs, ops without a QDQ form), naming the node.
std::string export_onnx_qdq_bytes(const Graph& int8_graph, const QdqExportOptions& options = {});

// Writes atomically (a temporary file next to `path`, flushed, renamed over it): on any error
// `path` is untouched and no temporary is left behind.
void export_onnx_qdq(const Graph& int8_graph, const std::string& path, const QdqExportOptions& options = {});

}  // namespace octet
