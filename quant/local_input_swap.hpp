#pragma once
// Local mode: attached to a session running the int8 model (with StatProfiler), it overwrites,
// just before each node runs, every activation input that has an fp32 twin with that twin from
// ReferenceActivations — quantized with the input's own qparams for an int8 input ("v.q" gets
// quantize(v)), copied for a float one. Each node then sees the input a perfect upstream would
// give it, so the error StatProfiler measures at its output is the node's own: weight
// quantization, accumulation, requantization, output rounding and clipping.
//
// Why a hook rather than a one-node graph per layer: the swap runs the very kernels the
// backend prepared for the whole model (its fallbacks and packed weights included, and any
// other backend's — the emulated NPU's rounding too), needs no second copy of any weights, and
// gives every layer's local error in one pass. The cost: in that pass the session's values are
// no longer the model's own (the propagated pass is a separate run), and the hook writes into the
// session's arena — only into the inputs of the node about to run, which the executor has
// already finished writing and which every later reader would overwrite the same way.
#include <string>
#include <vector>

#include "graph/execution_hook.hpp"
#include "graph/graph.hpp"
#include "quant/qparams.hpp"
#include "quant/reference_activations.hpp"

namespace octet::quant {

class LocalInputSwap final : public ExecutionHook {
 public:
  // `tested` must be the graph the session runs; `reference` must outlive this hook.
  LocalInputSwap(const Graph& tested, const ReferenceActivations& reference);

  void before(const NodeEvent& event) override;

 private:
  struct Swap {
    size_t input;  // input position
    int reference;
    bool int8;
    AffineParams params;
  };
  const ReferenceActivations& reference_;
  std::vector<std::vector<Swap>> swaps_;  // per tested node index
  std::vector<std::vector<std::string>>
      names_;  // the swapped input names, to check the session's graph
};

}  // namespace octet::quant
