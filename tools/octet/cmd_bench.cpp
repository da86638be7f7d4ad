// octet bench MODEL: latency of one inference (median, p90, min over --iters runs after warm-up),
// peak resident memory, model and arena bytes; with --backend npu also the NPU performance
// model's estimate (backends/npu_emu/npu_perf.hpp) beside the host's emulation time.
#include <sys/resource.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <random>

#include "backends/npu_emu/npu_perf.hpp"
#include "engine/session.hpp"
#include "graph/error.hpp"
#include "kernels/isa.hpp"
#include "tools/octet/backend_options.hpp"
#include "tools/octet/commands.hpp"
#include "tools/octet/model_loader.hpp"

namespace octet::cli {
namespace {

size_t peak_rss_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<size_t>(usage.ru_maxrss) * 1024;  // Linux reports kilobytes
}

// Inputs in [0, 1) from a fixed seed: latency does not depend on values, and runs repeat.
std::vector<Tensor> random_inputs(const Session& session, size_t count) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(0.0f, 1.0f);
  std::vector<Tensor> inputs;
  for (size_t i = 0; i < count; ++i) {
    const ValueSlot& slot = session.input_info(i);
    if (slot.dtype != DType::f32) throw Error("bench supports float inputs only ('" + slot.name + "')");
    Tensor tensor(DType::f32, slot.shape);
    for (int64_t j = 0; j < tensor.elements(); ++j) tensor.mutable_data<float>()[j] = dist(rng);
    inputs.push_back(std::move(tensor));
  }
  return inputs;
}

// Wall time per node, summed over runs (hooks add one clock read before and after each node).
class LayerTimer final : public ExecutionHook {
 public:
  explicit LayerTimer(size_t nodes) : total_ms_(nodes, 0.0) {}
  void before(const NodeEvent&) override { start_ = std::chrono::steady_clock::now(); }
  void after(const NodeEvent& event) override {
    total_ms_[event.node_index] +=
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count();
  }
  const std::vector<double>& total_ms() const { return total_ms_; }

 private:
  std::vector<double> total_ms_;
  std::chrono::steady_clock::time_point start_;
};

npu::NpuEstimate npu_estimate(const CompiledPlan& plan, const std::string& config_path) {
  std::vector<bool> on_npu(plan.graph().nodes.size(), false);
  for (const PlanStep& step : plan.steps()) on_npu[step.node_index] = step.backend == "npu";
  return npu::estimate_npu(plan.graph(), on_npu, npu::load_npu_config(config_path).performance);
}

nlohmann::json npu_json(const npu::NpuEstimate& e, const CompiledPlan& plan, bool layers) {
  size_t npu_nodes = 0;
  for (const PlanStep& step : plan.steps()) npu_nodes += step.backend == "npu";
  nlohmann::json j = {{"estimated", {{"cycles", e.cycles}, {"latency_ms", e.latency_ms}, {"dram_bytes", e.dram_bytes},
                                     {"sram_peak_bytes", e.sram_peak_bytes}, {"macs", e.macs}}},
                      {"npu_nodes", npu_nodes}, {"host_nodes", plan.steps().size() - npu_nodes}};
  if (layers)
    for (const auto& l : e.layers)
      j["layers"].push_back({{"node", l.node}, {"macs", l.macs}, {"ops", l.ops}, {"cycles", l.cycles},
                             {"compute_cycles", l.compute_cycles}, {"memory_cycles", l.memory_cycles},
                             {"latency_ms", l.latency_ms}, {"dram_bytes", l.dram_bytes},
                             {"weight_bytes", l.weight_bytes}, {"input_dram_bytes", l.input_dram_bytes},
                             {"output_dram_bytes", l.output_dram_bytes}, {"sram_bytes", l.sram_bytes},
                             {"fits_sram", l.fits}});
  return j;
}

}  // namespace

Command add_bench_command(CLI::App& app) {
  auto* sub = app.add_subcommand("bench", "Latency and memory of one inference");
  struct Options {
    std::string model;
    BackendFlags backend;
    int threads = 1, iters = 50, warmup = 5;
    bool json = false, layers = false;
  };
  auto o = std::make_shared<Options>();
  sub->add_option("model", o->model, "Model file (.onnx or .oct)")->required();
  add_backend_flags(*sub, o->backend, "cpu");
  sub->add_option("--threads", o->threads, "Threads per kernel")->capture_default_str()->check(CLI::Range(1, 256));
  sub->add_option("--iters", o->iters, "Timed runs")->capture_default_str()->check(CLI::Range(1, 1000000));
  sub->add_option("--warmup", o->warmup, "Untimed runs first")->capture_default_str()->check(CLI::Range(0, 1000000));
  sub->add_flag("--json", o->json, "Print one JSON object");
  sub->add_flag("--layers", o->layers, "Also time every layer (mean per run)");
  return [o]() {
    Model model = load_model(o->model);
    SessionOptions options = session_options(o->backend, model);
    options.threads = o->threads;
    Session session(model, options);
    const std::vector<Tensor> inputs = random_inputs(session, model.graph().inputs.size());
    std::vector<Tensor> outputs;
    for (size_t i = 0; i < model.graph().outputs.size(); ++i)
      outputs.emplace_back(session.output_info(i).dtype, session.output_info(i).shape);
    std::vector<TensorView> in, out;
    for (const auto& t : inputs) in.push_back(t.view());
    for (const auto& t : outputs) out.push_back(t.view());
    for (int i = 0; i < o->warmup; ++i) session.run(in, out);
    std::vector<double> ms;
    for (int i = 0; i < o->iters; ++i) {
      const auto start = std::chrono::steady_clock::now();
      session.run(in, out);
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
    std::sort(ms.begin(), ms.end());
    std::vector<std::pair<std::string, double>> layer_ms;
    if (o->layers) {
      LayerTimer timer(model.graph().nodes.size());
      session.add_hook(&timer);
      for (int i = 0; i < o->iters; ++i) session.run(in, out);
      session.remove_hook(&timer);
      for (size_t i = 0; i < model.graph().nodes.size(); ++i)
        layer_ms.emplace_back(model.graph().nodes[i].label(), timer.total_ms()[i] / o->iters);
    }
    const double p50 = ms[ms.size() / 2], p90 = ms[std::min(ms.size() - 1, ms.size() * 9 / 10)], min = ms.front();
    const size_t model_bytes = file_bytes(o->model), rss = peak_rss_bytes();
    const ModelStats stats = model.stats();
    const bool npu = o->backend.backend == "npu";
    const npu::NpuEstimate estimate = npu ? npu_estimate(session.plan(), o->backend.npu_config) : npu::NpuEstimate{};
    if (o->json) {
      nlohmann::json j = {{"model", o->model}, {"backend", o->backend.backend}, {"isa", kernels::isa_name(kernels::active_isa())},
                          {"threads", o->threads}, {"iters", o->iters},
                          {"latency_ms", {{"p50", p50}, {"p90", p90}, {"min", min}}},
                          {"peak_rss_bytes", rss}, {"model_bytes", model_bytes},
                          {"arena_bytes", session.arena_bytes()}, {"macs", stats.macs},
                          {"partition", session.plan().partition_summary()}};
      for (const auto& [name, time] : layer_ms) j["layers"].push_back({{"node", name}, {"ms", time}});
      if (npu) {
        j["npu"] = npu_json(estimate, session.plan(), o->layers);
        j["npu"]["host_emulation_ms"] = p50;
      }
      std::cout << j.dump(2) << "\n";
      return 0;
    }
    std::printf("model      %s (%zu bytes, %.1f M MACs)\nbackend    %s (%s), %d thread(s)\n", o->model.c_str(),
                model_bytes, static_cast<double>(stats.macs) / 1e6, o->backend.backend.c_str(),
                kernels::isa_name(kernels::active_isa()), o->threads);
    std::printf("latency    median %.3f ms, p90 %.3f ms, min %.3f ms (%d runs)\n", p50, p90, min, o->iters);
    for (const auto& [name, time] : layer_ms) std::printf("  %8.3f ms  %s\n", time, name.c_str());
    std::printf("memory     peak RSS %.1f MB, activation arena %.1f KB\n", static_cast<double>(rss) / 1e6,
                static_cast<double>(session.arena_bytes()) / 1024.0);
    if (npu) {
      std::printf("npu        estimated %lld cycles, %.4f ms, %lld DRAM bytes, SRAM peak %lld bytes (host emulation "
                  "%.3f ms)\n           %s\n",
                  static_cast<long long>(estimate.cycles), estimate.latency_ms,
                  static_cast<long long>(estimate.dram_bytes), static_cast<long long>(estimate.sram_peak_bytes), p50,
                  session.plan().partition_summary().c_str());
      if (o->layers)
        for (const auto& l : estimate.layers)
          std::printf("  %10lld cycles %9.4f ms %9lld DRAM B %9lld SRAM B  %s\n", static_cast<long long>(l.cycles),
                      l.latency_ms, static_cast<long long>(l.dram_bytes), static_cast<long long>(l.sram_bytes),
                      l.node.c_str());
    }
    return 0;
  };
}

}  // namespace octet::cli
