#pragma once
// A hook that averages, over runs, the data input of chosen layers (identified by the value each
// produces): float inputs as they are, int8 inputs dequantized with the graph's qparams. Bias
// correction feeds these means to mean_preactivation (quant/bias_correction.hpp). One running
// sum per layer, in double, is all it keeps.
#include <map>
#include <string>
#include <vector>

#include "graph/execution_hook.hpp"
#include "graph/graph.hpp"

namespace octet::quant {

class LayerInputMeanHook final : public ExecutionHook {
 public:
  // `layers`: output value names of the nodes whose input 0 to average. Throws octet::Error if
  // a name is not produced by any node of `graph`, or an int8 input has no qparams.
  LayerInputMeanHook(const Graph& graph, const std::vector<std::string>& layers);

  void before(const NodeEvent& event) override;

  // The mean input of the layer producing `layer_output`, shaped as that input. Throws
  // octet::Error if the layer is not watched or never ran.
  Tensor mean(const std::string& layer_output) const;

 private:
  struct Sum {
    std::vector<double> values;
    Shape shape;
    size_t runs = 0;
    bool dequantize = false;
    float scale = 1.0f;
    int32_t zero_point = 0;
  };
  std::map<std::string, Sum> sums_;
};

}  // namespace octet::quant
