#pragma once
// Runs a model. A Session owns its activation arena and hooks; the prepared plan it runs can be
// shared with other sessions (one per thread).
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/compiled_plan.hpp"
#include "engine/model.hpp"
#include "graph/execution_hook.hpp"

namespace octet {

struct SessionOptions {
  std::string backend = "ref";
  int threads = 1;  // threads inside each kernel (cpu backend, and the npu's host side)
  // npu only: the config file (empty: the built-in default), and whether per-channel weights are
  // converted to per-tensor at load (else a per-channel model is refused, naming the layer).
  std::string npu_config;
  bool convert_per_tensor = false;
};

// The backends this build knows, and a factory by name (throws listing the known names). "npu"
// gets the built-in config here; compile() reads SessionOptions::npu_config.
std::vector<std::string> available_backends();
std::unique_ptr<Backend> make_backend(const std::string& name, int threads = 1);

// The graph a session with `options` runs: the model's own, or for the npu with
// convert_per_tensor its per-channel weights converted to per-tensor (`converted` receives the
// layers changed; may be null). Throws for a per-channel model on the npu without conversion.
std::shared_ptr<const Graph> graph_for_backend(const Model& model, const SessionOptions& options,
                                               std::vector<std::string>* converted = nullptr);

// Binds a model to a backend once; sessions made from it share the prepared kernels. Nodes the
// backend cannot run fall back to ref, or for the npu to the host's cpu backend.
std::shared_ptr<const CompiledPlan> compile(const Model& model, const SessionOptions& options = {});

class Session {
 public:
  explicit Session(const Model& model, const SessionOptions& options = {});
  explicit Session(std::shared_ptr<const CompiledPlan> plan);

  // Inputs in the order of graph().inputs; shapes and dtypes must match exactly (the error names
  // the input, the expected and the given shape). Returns the outputs in graph order.
  std::vector<Tensor> run(const std::vector<Tensor>& inputs);
  // Zero-copy variant: writes outputs into caller-provided buffers of the right size, and reads
  // inputs straight from the caller's buffers where they are 64-byte aligned (else from a copy);
  // they must stay unchanged until run returns.
  void run(const std::vector<TensorView>& inputs, const std::vector<TensorView>& outputs);

  // Hooks are called around each node in insertion order; the session does not own them.
  void add_hook(ExecutionHook* hook);
  void remove_hook(ExecutionHook* hook);

  const CompiledPlan& plan() const { return *plan_; }
  const ValueSlot& input_info(size_t i) const;
  const ValueSlot& output_info(size_t i) const;
  size_t arena_bytes() const { return plan_->arena_bytes(); }

 private:
  void check_input(size_t i, const TensorView& view) const;
  void execute();

  std::shared_ptr<const CompiledPlan> plan_;
  std::shared_ptr<uint8_t> arena_;
  std::vector<TensorView> slot_views_;             // one per value slot, data bound to arena
  std::vector<std::vector<TensorView>> step_inputs_;
  std::vector<std::vector<TensorView>> step_outputs_;
  // Per graph input, the step inputs that read it: a run points them at the caller's buffer
  // instead of copying it into the arena.
  std::vector<std::vector<std::pair<size_t, size_t>>> input_readers_;  // (step, input) pairs
  std::vector<ExecutionHook*> hooks_;
};

}  // namespace octet
