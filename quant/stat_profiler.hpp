#pragma once
// The Stat profiler: attached to a session running the int8 model after ReferenceActivations
// has seen the fp32 model on the same sample, it compares every node output that has an fp32
// twin (v.q against v, dequantized on the fly; float outputs directly) and accumulates
// ErrorStats per layer over all samples. It reads the output during after() and keeps nothing.
//
// Which error it measures depends on the session's inputs, not on this class: on its own
// quantized input the int8 model's error is *propagated* (every layer inherits its
// predecessors' error); with LocalInputSwap attached too, each layer reads the quantized fp32
// input instead and the error is the layer's own (*local*).
#include <string>
#include <vector>

#include "graph/execution_hook.hpp"
#include "graph/graph.hpp"
#include "quant/error_stats.hpp"
#include "quant/qparams.hpp"
#include "quant/reference_activations.hpp"

namespace octet::quant {

struct LayerError {
  size_t node_index = 0;  // in the tested graph
  std::string node, op;   // the tested node
  std::string value;      // tested value ("v.q" or a float "v")
  std::string reference;  // the fp32 value "v"
  bool int8 = false;      // an int8 value, compared dequantized
  AffineParams params;    // its qparams when int8 (the LSB is params.scale)
  ErrorStats error;

  double max_abs_error_lsb() const { return int8 ? error.max_abs_error() / params.scale : 0.0; }
};

class StatProfiler final : public ExecutionHook {
 public:
  // `tested` must be the graph the session runs; `reference` must outlive this profiler.
  StatProfiler(const Graph& tested, const ReferenceActivations& reference);

  void after(const NodeEvent& event) override;

  // One entry per compared node output, in node order.
  const std::vector<LayerError>& layers() const { return layers_; }
  // The entry for a tested node, or nullptr.
  const LayerError* find_node(const std::string& node_name) const;

 private:
  struct Target {
    size_t output;  // output position
    size_t layer;   // index in layers_
    int reference;  // ReferenceActivations index
  };
  const ReferenceActivations& reference_;
  std::vector<LayerError> layers_;
  std::vector<std::vector<Target>> targets_;  // per tested node index
};

// Accumulates one tested tensor against its reference into `stats`: int8 codes dequantized with
// `params` (a code "differs" when it is not quantize(r)), or float values compared directly.
void accumulate_int8_error(const int8_t* codes, const float* reference, int64_t count,
                           AffineParams params, ErrorStats& stats);
void accumulate_float_error(const float* tested, const float* reference, int64_t count,
                            ErrorStats& stats);

}  // namespace octet::quant
