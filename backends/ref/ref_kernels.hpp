#pragma once
// Factories of the ref backend's kernels, one per op family (each in its own file).
#include <memory>

#include "backends/backend.hpp"

namespace octet::ref {

std::unique_ptr<Kernel> make_conv(const Graph& graph, const Node& node);
std::unique_ptr<Kernel> make_gemm(const Graph& graph, const Node& node);
std::unique_ptr<Kernel> make_matmul(const Graph& graph, const Node& node);
std::unique_ptr<Kernel> make_pool(const Graph& graph, const Node& node);
std::unique_ptr<Kernel> make_global_average_pool(const Graph& graph, const Node& node);
std::unique_ptr<Kernel> make_add(const Graph& graph, const Node& node);
std::unique_ptr<Kernel> make_clamp(const Graph& graph, const Node& node);
std::unique_ptr<Kernel> make_batchnorm(const Graph& graph, const Node& node);
std::unique_ptr<Kernel> make_softmax(const Graph& graph, const Node& node);
std::unique_ptr<Kernel> make_copy(const Graph& graph, const Node& node);
std::unique_ptr<Kernel> make_transpose(const Graph& graph, const Node& node);
std::unique_ptr<Kernel> make_resize(const Graph& graph, const Node& node);  // f32, i8, u8

// int8 (quantized_ref.cpp)
std::unique_ptr<Kernel> make_quantize(const Graph& graph, const Node& node);
std::unique_ptr<Kernel> make_dequantize(const Graph& graph, const Node& node);
std::unique_ptr<Kernel> make_qconv(const Graph& graph, const Node& node);
std::unique_ptr<Kernel> make_qgemm(const Graph& graph, const Node& node);
std::unique_ptr<Kernel> make_qadd(const Graph& graph, const Node& node);
std::unique_ptr<Kernel> make_qaverage_pool(const Graph& graph, const Node& node);
std::unique_ptr<Kernel> make_dynamic_quantized(const Graph& graph, const Node& node);

// Fused activation bounds of a Conv/Gemm node (no clamp when the attribute is absent).
struct FusedClamp {
  float low;
  float high;
};
FusedClamp fused_clamp(const Node& node);

}  // namespace octet::ref
