#include "tools/octet/evaluate.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <mutex>
#include <thread>

#include "engine/session.hpp"
#include "graph/error.hpp"
#include "tools/octet/progress.hpp"

namespace octet::cli {
namespace {

// Rank of the true class among the logits: 0 = predicted; ties go to the lower index, as argmax.
size_t rank_of(const float* logits, size_t classes, int64_t label) {
  const float target = logits[label];
  size_t rank = 0;
  for (size_t c = 0; c < classes; ++c)
    if (logits[c] > target || (logits[c] == target && static_cast<int64_t>(c) < label)) ++rank;
  return rank;
}

}  // namespace

EvalResult evaluate_classifier(std::shared_ptr<const CompiledPlan> plan, const data::Dataset& dataset,
                               int threads, const std::string& progress_label) {
  if (!dataset.has_labels()) throw Error("dataset '" + dataset.name() + "' has no labels (give --labels y.npy)");
  if (plan->input_slots().size() != 1 || plan->output_slots().size() != 1)
    throw Error("evaluation needs a model with one input and one output");
  const ValueSlot& input = plan->slots()[static_cast<size_t>(plan->input_slots()[0])];
  const ValueSlot& output = plan->slots()[static_cast<size_t>(plan->output_slots()[0])];
  if (input.dtype != DType::f32 || static_cast<int64_t>(dataset.sample_elements()) != shape_elements(input.shape))
    throw Error("dataset '" + dataset.name() + "' gives samples of shape " + shape_str(dataset.sample_shape()) +
                " but model input '" + input.name + "' is " + dtype_name(input.dtype) + " " + shape_str(input.shape));
  if (output.dtype != DType::f32) throw Error("model output '" + output.name + "' is not f32");
  const size_t classes = static_cast<size_t>(shape_elements(output.shape));
  for (size_t i = 0; i < dataset.size(); ++i)
    if (dataset.label(i) < 0 || static_cast<size_t>(dataset.label(i)) >= classes)
      throw Error("label " + std::to_string(dataset.label(i)) + " of sample " + std::to_string(i) +
                  " is outside the model's " + std::to_string(classes) + " classes");

  Progress progress(progress_label, dataset.size());
  std::atomic<size_t> next{0};
  std::mutex mutex;
  EvalResult result;
  size_t top5 = 0;
  std::vector<double> latencies(dataset.size());
  std::exception_ptr failure;
  auto worker = [&]() {
    try {
      Session session(plan);
      Tensor in(DType::f32, input.shape), out(DType::f32, output.shape);
      const std::vector<TensorView> ins{in.view()}, outs{out.view()};
      for (size_t i; (i = next.fetch_add(1)) < dataset.size();) {
        dataset.sample(i, in.mutable_data<float>());
        const auto start = std::chrono::steady_clock::now();
        session.run(ins, outs);
        latencies[i] = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
        const size_t rank = rank_of(out.data<float>(), classes, dataset.label(i));
        std::lock_guard<std::mutex> lock(mutex);
        result.correct_top1 += rank == 0;
        top5 += rank < 5;
        ++result.samples;
        char detail[48];
        std::snprintf(detail, sizeof detail, "top1 %.4f",
                      static_cast<double>(result.correct_top1) / static_cast<double>(result.samples));
        progress.update(result.samples, detail);
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex);
      if (!failure) failure = std::current_exception();
      next = dataset.size();
    }
  };
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& thread : pool) thread.join();
  if (failure) std::rethrow_exception(failure);
  progress.finish();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double n = static_cast<double>(std::max<size_t>(result.samples, 1));
  result.top1 = static_cast<double>(result.correct_top1) / n;
  result.top5 = static_cast<double>(top5) / n;
  std::sort(latencies.begin(), latencies.end());
  result.latency_p50_ms = latencies.empty() ? 0.0 : latencies[latencies.size() / 2];
  return result;
}

}  // namespace octet::cli
