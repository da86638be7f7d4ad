#include "tools/octet/evaluate.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <utility>

#include "engine/session.hpp"
#include "graph/error.hpp"
#include "tools/octet/progress.hpp"
#include "tools/octet/sample_pool.hpp"

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

SingleIo dataset_io(const CompiledPlan& plan, const data::Dataset& dataset, const std::string& which) {
  if (plan.input_slots().size() != 1 || plan.output_slots().size() != 1)
    throw Error("evaluation needs a " + which + " with one input and one output, it has " +
                std::to_string(plan.input_slots().size()) + " and " + std::to_string(plan.output_slots().size()));
  const ValueSlot& input = plan.slots()[static_cast<size_t>(plan.input_slots()[0])];
  const ValueSlot& output = plan.slots()[static_cast<size_t>(plan.output_slots()[0])];
  if (input.dtype != DType::f32 || static_cast<int64_t>(dataset.sample_elements()) != shape_elements(input.shape))
    throw Error("dataset '" + dataset.name() + "' gives samples of shape " + shape_str(dataset.sample_shape()) +
                " but " + which + " input '" + input.name + "' is " + dtype_name(input.dtype) + " " +
                shape_str(input.shape));
  if (output.dtype != DType::f32) throw Error(which + " output '" + output.name + "' is not f32");
  return {input, output};
}

SampleRunner::SampleRunner(std::shared_ptr<const CompiledPlan> plan, const SingleIo& io)
    : session_(std::move(plan)),
      input_(DType::f32, io.input.shape),
      output_(DType::f32, io.output.shape),
      inputs_{input_.view()},
      outputs_{output_.view()} {}

EvalResult evaluate_classifier(std::shared_ptr<const CompiledPlan> plan, const data::Dataset& dataset,
                               int threads, const std::string& progress_label) {
  if (!dataset.has_labels()) throw Error("dataset '" + dataset.name() + "' has no labels (give --labels y.npy)");
  const SingleIo io = dataset_io(*plan, dataset, "model");
  const size_t classes = static_cast<size_t>(shape_elements(io.output.shape));
  for (size_t i = 0; i < dataset.size(); ++i)
    if (dataset.label(i) < 0 || static_cast<size_t>(dataset.label(i)) >= classes)
      throw Error("label " + std::to_string(dataset.label(i)) + " of sample " + std::to_string(i) +
                  " is outside the model's " + std::to_string(classes) + " classes");

  Progress progress(progress_label, dataset.size());
  std::mutex mutex;
  EvalResult result;
  size_t top5 = 0;
  std::vector<double> latencies(dataset.size());
  const auto start = std::chrono::steady_clock::now();
  for_each_sample(dataset.size(), threads, [&]() -> SampleWorker {
    auto runner = std::make_shared<SampleRunner>(plan, io);
    return [&, runner](size_t i) {
      dataset.sample(i, runner->input());
      const auto begin = std::chrono::steady_clock::now();
      runner->run();
      latencies[i] = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin).count();
      const size_t rank = rank_of(runner->output(), classes, dataset.label(i));
      std::lock_guard<std::mutex> lock(mutex);
      result.correct_top1 += rank == 0;
      top5 += rank < 5;
      ++result.samples;
      char detail[48];
      std::snprintf(detail, sizeof detail, "top1 %.4f",
                    static_cast<double>(result.correct_top1) / static_cast<double>(result.samples));
      progress.update(result.samples, detail);
    };
  });
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
