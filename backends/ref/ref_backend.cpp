#include <functional>
#include <map>

#include "backends/ref/ref_kernels.hpp"
#include "graph/error.hpp"

namespace octet {
namespace {

using Factory = std::function<std::unique_ptr<Kernel>(const Graph&, const Node&)>;

const std::map<std::string, Factory>& factories() {
  static const std::map<std::string, Factory> table = {
      {"Conv", ref::make_conv},
      {"Gemm", ref::make_gemm},
      {"MatMul", ref::make_matmul},
      {"MaxPool", ref::make_pool},
      {"AveragePool", ref::make_pool},
      {"GlobalAveragePool", ref::make_global_average_pool},
      {"Add", ref::make_add},
      {"Relu", ref::make_clamp},
      {"Clip", ref::make_clamp},
      {"BatchNormalization", ref::make_batchnorm},
      {"Softmax", ref::make_softmax},
      {"Flatten", ref::make_copy},
      {"Reshape", ref::make_copy},
      {"Identity", ref::make_copy},
      {"Dropout", ref::make_copy},
      {"Transpose", ref::make_transpose},
      {"Resize", ref::make_resize},
      {"QuantizeLinear", ref::make_quantize},
      {"DequantizeLinear", ref::make_dequantize},
      {"QConv", ref::make_qconv},
      {"QGemm", ref::make_qgemm},
      {"QAdd", ref::make_qadd},
      {"QAveragePool", ref::make_qaverage_pool},
      {"QGlobalAveragePool", ref::make_qaverage_pool},
      {"DynQConv", ref::make_dynamic_quantized},
      {"DynQGemm", ref::make_dynamic_quantized},
  };
  return table;
}

class RefBackend final : public Backend {
 public:
  const char* name() const override { return "ref"; }

  Support supports(const Graph&, const Node& node) const override {
    if (!factories().count(node.op)) return Support::no("ref backend has no kernel for " + node.op);
    return Support::yes();
  }

  std::unique_ptr<Kernel> prepare(const Graph& graph, const Node& node) const override {
    auto it = factories().find(node.op);
    if (it == factories().end()) throw Error("ref backend has no kernel for " + node.label());
    return it->second(graph, node);
  }
};

}  // namespace

std::unique_ptr<Backend> make_ref_backend() { return std::make_unique<RefBackend>(); }

}  // namespace octet
