// octet eval MODEL --data SPEC: top-1/top-5 accuracy of a classifier on a labelled dataset.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <numeric>
#include <thread>

#include "engine/data/dataset.hpp"
#include "engine/data/dataset_spec.hpp"
#include "engine/session.hpp"
#include "graph/error.hpp"
#include "tools/octet/commands.hpp"
#include "tools/octet/model_loader.hpp"
#include "tools/octet/progress.hpp"

namespace octet::cli {
namespace {

struct EvalOptions {
  std::string model, data, labels, backend = "ref", mean, std;
  size_t limit = 0;
  int threads = 1;
  bool json = false;
};

struct Tally {
  size_t top1 = 0, top5 = 0, done = 0;
};

// Rank of the true class among the logits: 0 = predicted, ties broken by index like argmax.
size_t rank_of(const float* logits, size_t classes, int64_t label) {
  const float target = logits[label];
  size_t rank = 0;
  for (size_t c = 0; c < classes; ++c)
    if (logits[c] > target || (logits[c] == target && static_cast<int64_t>(c) < label)) ++rank;
  return rank;
}

}  // namespace

Command add_eval_command(CLI::App& app) {
  auto* sub = app.add_subcommand("eval", "Top-1/top-5 accuracy of a classifier on a labelled dataset");
  auto o = std::make_shared<EvalOptions>();
  sub->add_option("model", o->model, "Model file (.onnx)")->required();
  sub->add_option("--data", o->data, "fashion-mnist:test|fashion-mnist:train|mnist:test|x.npy")->required();
  sub->add_option("--labels", o->labels, "Labels .npy (with --data x.npy)");
  sub->add_option("--limit", o->limit, "Evaluate the first N samples only");
  sub->add_option("--mean", o->mean, "Normalize inputs: mean, one value or one per channel");
  sub->add_option("--std", o->std, "Normalize inputs: std, one value or one per channel");
  sub->add_option("--backend", o->backend, "Backend: ref")->capture_default_str();
  sub->add_option("--threads", o->threads, "Worker threads (one session each)")
      ->capture_default_str()->check(CLI::Range(1, 256));
  sub->add_flag("--json", o->json, "Print one JSON object");
  return [o]() {
    data::Dataset dataset = data::load_dataset(o->data, o->labels);
    if (!dataset.has_labels()) throw Error("dataset '" + o->data + "' has no labels (give --labels y.npy)");
    if (!o->mean.empty() || !o->std.empty())
      dataset.set_normalization(data::parse_float_list(o->mean.empty() ? "0" : o->mean),
                                data::parse_float_list(o->std.empty() ? "1" : o->std));
    if (o->limit) dataset.limit(o->limit);
    Model model = load_model(o->model);
    SessionOptions session_options;
    session_options.backend = o->backend;
    auto plan = compile(model, session_options);
    if (plan->input_slots().size() != 1 || plan->output_slots().size() != 1)
      throw Error("eval needs a model with one input and one output");
    const ValueSlot& input = plan->slots()[static_cast<size_t>(plan->input_slots()[0])];
    const ValueSlot& output = plan->slots()[static_cast<size_t>(plan->output_slots()[0])];
    if (input.dtype != DType::f32 || static_cast<int64_t>(dataset.sample_elements()) != shape_elements(input.shape))
      throw Error("dataset '" + o->data + "' gives samples of shape " + shape_str(dataset.sample_shape()) +
                  " but model input '" + input.name + "' is " + dtype_name(input.dtype) + " " +
                  shape_str(input.shape));
    const size_t classes = static_cast<size_t>(shape_elements(output.shape));
    for (size_t i = 0; i < dataset.size(); ++i)
      if (dataset.label(i) < 0 || static_cast<size_t>(dataset.label(i)) >= classes)
        throw Error("label " + std::to_string(dataset.label(i)) + " of sample " + std::to_string(i) +
                    " is outside the model's " + std::to_string(classes) + " classes");

    Progress progress("eval " + o->model, dataset.size(), true);
    std::atomic<size_t> next{0};
    std::mutex mutex;
    Tally tally;
    std::vector<double> latencies(dataset.size());
    std::exception_ptr failure;
    auto worker = [&]() {
      try {
        Session session(plan);
        Tensor in(DType::f32, input.shape), out(DType::f32, output.shape);
        std::vector<TensorView> ins{in.view()}, outs{out.view()};
        for (size_t i; (i = next.fetch_add(1)) < dataset.size();) {
          dataset.sample(i, in.mutable_data<float>());
          const auto start = std::chrono::steady_clock::now();
          session.run(ins, outs);
          latencies[i] = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
          const size_t rank = rank_of(out.data<float>(), classes, dataset.label(i));
          std::lock_guard<std::mutex> lock(mutex);
          tally.top1 += rank == 0;
          tally.top5 += rank < 5;
          ++tally.done;
          char detail[64];
          std::snprintf(detail, sizeof detail, "top1 %.4f", static_cast<double>(tally.top1) / static_cast<double>(tally.done));
          progress.update(tally.done, detail);
        }
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!failure) failure = std::current_exception();
        next = dataset.size();
      }
    };
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int t = 1; t < o->threads; ++t) threads.emplace_back(worker);
    worker();
    for (auto& thread : threads) thread.join();
    if (failure) std::rethrow_exception(failure);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double n = static_cast<double>(dataset.size());
    const double top1 = static_cast<double>(tally.top1) / n, top5 = static_cast<double>(tally.top5) / n;
    std::sort(latencies.begin(), latencies.end());
    const double p50 = latencies.empty() ? 0.0 : latencies[latencies.size() / 2];
    progress.finish();
    if (o->json) {
      nlohmann::json out = {{"model", o->model},     {"data", o->data},       {"backend", o->backend},
                            {"samples", dataset.size()}, {"top1", top1},       {"top5", top5},
                            {"correct_top1", tally.top1}, {"threads", o->threads},
                            {"seconds", seconds},    {"latency_ms", {{"p50", p50}}}};
      std::cout << out.dump(2) << "\n";
    } else {
      std::printf("model     %s\ndata      %s (%zu samples)\nbackend   %s\ntop-1     %.4f (%zu correct)\n"
                  "top-5     %.4f\nlatency   %.3f ms median per sample\n",
                  o->model.c_str(), o->data.c_str(), dataset.size(), o->backend.c_str(), top1,
                  tally.top1, top5, p50);
    }
    return 0;
  };
}

}  // namespace octet::cli
