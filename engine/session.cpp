#include "engine/session.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "backends/npu_emu/npu_backend.hpp"
#include "backends/npu_emu/npu_constraints.hpp"
#include "backends/onednn/onednn_backend.hpp"
#include "graph/error.hpp"
#include "quant/per_tensor_conversion.hpp"

namespace octet {

std::vector<std::string> available_backends() { return {"ref", "cpu", "onednn", "npu"}; }

std::unique_ptr<Backend> make_backend(const std::string& name, int threads) {
  if (name == "ref") return make_ref_backend();
  if (name == "cpu") return make_cpu_backend(threads);
  if (name == "onednn") return make_onednn_backend(threads);
  if (name == "npu") return make_npu_backend(npu::default_npu_config());
  std::string known;
  for (const auto& backend : available_backends()) known += (known.empty() ? "" : ", ") + backend;
  throw Error("unknown backend '" + name + "' (available: " + known + ")");
}

std::shared_ptr<const Graph> graph_for_backend(const Model& model, const SessionOptions& options,
                                               std::vector<std::string>* converted) {
  if (options.backend != "npu") {
    if (!options.npu_config.empty() || options.convert_per_tensor)
      throw Error("the npu config and per-tensor conversion apply to the npu backend only (backend is '" +
                  options.backend + "')");
    return model.shared_graph();
  }
  const std::string layer = npu::first_per_channel_layer(model.graph());
  if (layer.empty()) return model.shared_graph();
  if (!options.convert_per_tensor)
    throw Error("npu: " + layer + " has per-channel weights and the NPU takes per-tensor weights only; " +
                "pass --convert-per-tensor to convert them at load, or quantize with --weights per-tensor");
  return std::make_shared<const Graph>(quant::convert_weights_to_per_tensor(model.graph(), converted));
}

std::shared_ptr<const CompiledPlan> compile(const Model& model, const SessionOptions& options) {
  std::shared_ptr<const Graph> graph = graph_for_backend(model, options);
  if (options.backend == "npu") {
    // The NPU's host is the cpu backend (which itself runs what it lacks on ref kernels).
    std::unique_ptr<Backend> npu = make_npu_backend(npu::load_npu_config(options.npu_config));
    std::unique_ptr<Backend> host = make_cpu_backend(options.threads);
    return std::make_shared<const CompiledPlan>(graph, *npu, *host);
  }
  std::unique_ptr<Backend> preferred = make_backend(options.backend, options.threads);
  std::unique_ptr<Backend> fallback = make_ref_backend();
  return std::make_shared<const CompiledPlan>(graph, *preferred, *fallback);
}

Session::Session(const Model& model, const SessionOptions& options) : Session(compile(model, options)) {}

Session::Session(std::shared_ptr<const CompiledPlan> plan) : plan_(std::move(plan)) {
  arena_ = allocate_aligned(plan_->arena_bytes());
  for (const ValueSlot& slot : plan_->slots()) {
    void* data = slot.constant ? const_cast<void*>(slot.constant->raw()) : arena_.get() + slot.offset;
    slot_views_.push_back(TensorView{data, slot.dtype, &slot.shape});
  }
  // Which graph input a slot holds (-1: none), to note the step inputs that read each one.
  std::vector<int> graph_input_of(plan_->slots().size(), -1);
  for (size_t i = 0; i < plan_->input_slots().size(); ++i)
    graph_input_of[static_cast<size_t>(plan_->input_slots()[i])] = static_cast<int>(i);
  input_readers_.resize(plan_->input_slots().size());
  // Views per step are fixed for the session's life (but for the inputs' data pointers): running
  // allocates nothing.
  for (const PlanStep& step : plan_->steps()) {
    std::vector<TensorView> inputs, outputs;
    for (int slot : step.inputs) {
      if (slot >= 0 && graph_input_of[static_cast<size_t>(slot)] >= 0)
        input_readers_[static_cast<size_t>(graph_input_of[static_cast<size_t>(slot)])].emplace_back(
            step_inputs_.size(), inputs.size());
      inputs.push_back(slot < 0 ? TensorView{} : slot_views_[static_cast<size_t>(slot)]);
    }
    for (int slot : step.outputs) outputs.push_back(slot < 0 ? TensorView{} : slot_views_[static_cast<size_t>(slot)]);
    step_inputs_.push_back(std::move(inputs));
    step_outputs_.push_back(std::move(outputs));
  }
}

const ValueSlot& Session::input_info(size_t i) const {
  return plan_->slots().at(static_cast<size_t>(plan_->input_slots().at(i)));
}

const ValueSlot& Session::output_info(size_t i) const {
  return plan_->slots().at(static_cast<size_t>(plan_->output_slots().at(i)));
}

void Session::check_input(size_t i, const TensorView& view) const {
  const ValueSlot& slot = input_info(i);
  if (!view.shape || *view.shape != slot.shape || view.dtype != slot.dtype)
    throw Error("input '" + slot.name + "': expected " + dtype_name(slot.dtype) + " " +
                shape_str(slot.shape) + ", got " + dtype_name(view.dtype) + " " +
                (view.shape ? shape_str(*view.shape) : std::string("nothing")));
}

std::vector<Tensor> Session::run(const std::vector<Tensor>& inputs) {
  std::vector<TensorView> in;
  for (const auto& tensor : inputs) in.push_back(tensor.view());
  // All outputs first, views after: a view points at its tensor's shape, which must not move.
  std::vector<Tensor> outputs;
  for (size_t i = 0; i < plan_->output_slots().size(); ++i)
    outputs.emplace_back(output_info(i).dtype, output_info(i).shape);
  std::vector<TensorView> out;
  for (const Tensor& tensor : outputs) out.push_back(tensor.view());
  run(in, out);
  return outputs;
}

void Session::run(const std::vector<TensorView>& inputs, const std::vector<TensorView>& outputs) {
  const auto& input_slots = plan_->input_slots();
  if (inputs.size() != input_slots.size())
    throw Error("model takes " + std::to_string(input_slots.size()) + " input(s), got " +
                std::to_string(inputs.size()));
  if (outputs.size() != plan_->output_slots().size())
    throw Error("model has " + std::to_string(plan_->output_slots().size()) + " output(s), got " +
                std::to_string(outputs.size()) + " buffers");
  for (size_t i = 0; i < inputs.size(); ++i) {
    check_input(i, inputs[i]);
    const ValueSlot& slot = input_info(i);
    // Read in place where the buffer is aligned like the arena's (resnet50's 602 KB input: a
    // copy of ~40 us per run saved); else copied into the arena.
    TensorView& view = slot_views_[static_cast<size_t>(input_slots[i])];
    const bool aligned = reinterpret_cast<uintptr_t>(inputs[i].data) % 64 == 0;
    view.data = aligned ? inputs[i].data : arena_.get() + slot.offset;
    for (const auto& [step, input] : input_readers_[i]) step_inputs_[step][input].data = view.data;
    if (!aligned) std::memcpy(view.data, inputs[i].data, slot.bytes);
  }
  execute();
  for (size_t i = 0; i < outputs.size(); ++i) {
    const ValueSlot& slot = output_info(i);
    if (!outputs[i].shape || *outputs[i].shape != slot.shape || outputs[i].dtype != slot.dtype)
      throw Error("output '" + slot.name + "': buffer must be " + dtype_name(slot.dtype) + " " + shape_str(slot.shape));
    std::memcpy(outputs[i].data, slot_views_[static_cast<size_t>(plan_->output_slots()[i])].data, slot.bytes);
  }
}

void Session::execute() {
  const auto& steps = plan_->steps();
  const Graph& graph = plan_->graph();
  for (size_t s = 0; s < steps.size(); ++s) {
    const PlanStep& step = steps[s];
    if (hooks_.empty()) {
      step.kernel->run(step_inputs_[s].data(), step_outputs_[s].data());
      continue;
    }
    NodeEvent event{graph.nodes[step.node_index], s, step_inputs_[s].data(), step_inputs_[s].size(),
                    step_outputs_[s].data(), step_outputs_[s].size(), step.backend.c_str()};
    for (ExecutionHook* hook : hooks_) hook->before(event);
    step.kernel->run(step_inputs_[s].data(), step_outputs_[s].data());
    for (ExecutionHook* hook : hooks_) hook->after(event);
  }
}

void Session::add_hook(ExecutionHook* hook) {
  if (hook && std::find(hooks_.begin(), hooks_.end(), hook) == hooks_.end()) hooks_.push_back(hook);
}

void Session::remove_hook(ExecutionHook* hook) {
  hooks_.erase(std::remove(hooks_.begin(), hooks_.end(), hook), hooks_.end());
}

}  // namespace octet
