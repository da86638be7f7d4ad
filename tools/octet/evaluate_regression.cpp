#include "tools/octet/evaluate_regression.hpp"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <vector>

#include "graph/error.hpp"
#include "tools/octet/evaluate.hpp"
#include "tools/octet/progress.hpp"
#include "tools/octet/sample_pool.hpp"

namespace octet::cli {
namespace {

Shape without_leading_ones(const Shape& shape) {
  size_t first = 0;
  while (first < shape.size() && shape[first] == 1) ++first;
  return Shape(shape.begin() + static_cast<std::ptrdiff_t>(first), shape.end());
}

}  // namespace

bool same_layout(const Shape& a, const Shape& b) {
  return without_leading_ones(a) == without_leading_ones(b);
}

void require_regression_targets(const data::Dataset& dataset, const std::string& context) {
  if (!dataset.has_targets())
    throw Error(context + "dataset '" + dataset.name() +
                "' has no regression targets (use fashion-mnist-noisy:test|train, or a .npy dataset "
                "with --targets t.npy)");
}

void check_regression_targets(const data::Dataset& dataset, const std::string& output_name, const Shape& output_shape,
                              const std::string& context) {
  require_regression_targets(dataset, context);
  const Shape& target_shape = dataset.target_shape();
  if (!same_layout(output_shape, target_shape))
    throw Error(context + "model output '" + output_name + "' has shape " + shape_str(output_shape) + " but dataset '" +
                dataset.name() + "' targets have shape " + shape_str(target_shape) + " per sample");
}

RegressionResult evaluate_regression(std::shared_ptr<const CompiledPlan> plan,
                                     std::shared_ptr<const CompiledPlan> reference,
                                     const data::Dataset& dataset, int threads,
                                     const std::string& progress_label) {
  require_regression_targets(dataset);  // before dataset_io: the missing targets are the first thing to say
  const SingleIo io = dataset_io(*plan, dataset, "model");
  check_regression_targets(dataset, io.output.name, io.output.shape);
  std::optional<SingleIo> ref_io;
  if (reference) {
    ref_io.emplace(dataset_io(*reference, dataset, "--ref model"));
    if (ref_io->output.shape != io.output.shape)
      throw Error("--ref model output '" + ref_io->output.name + "' has shape " +
                  shape_str(ref_io->output.shape) + " but model output '" + io.output.name +
                  "' has shape " + shape_str(io.output.shape));
  }

  const size_t elements = dataset.target_elements();
  Progress progress(progress_label, dataset.size());
  std::mutex mutex;
  RegressionResult result;
  if (reference) result.vs_reference.emplace();
  const auto start = std::chrono::steady_clock::now();
  for_each_sample(dataset.size(), threads, [&]() -> SampleWorker {
    auto runner = std::make_shared<SampleRunner>(plan, io);
    std::shared_ptr<SampleRunner> ref_runner;
    if (reference) ref_runner = std::make_shared<SampleRunner>(reference, *ref_io);
    auto target = std::make_shared<std::vector<float>>(elements);
    return [&, runner, ref_runner, target](size_t i) {
      dataset.sample(i, runner->input());
      // Copied before the model runs, so the reference sees exactly the same input.
      if (ref_runner)
        std::memcpy(ref_runner->input(), runner->input(),
                    dataset.sample_elements() * sizeof(float));
      dataset.target(i, target->data());
      runner->run();
      const ErrorSums vs_target = ErrorSums::of(runner->output(), target->data(), elements);
      ErrorSums vs_reference;
      if (ref_runner) {
        ref_runner->run();
        vs_reference = ErrorSums::of(runner->output(), ref_runner->output(), elements);
      }
      std::lock_guard<std::mutex> lock(mutex);
      result.vs_target.add(i, vs_target);
      if (ref_runner) result.vs_reference->add(i, vs_reference);
      char detail[48];
      std::snprintf(detail, sizeof detail, "mae %.6g", result.vs_target.mae());
      progress.update(result.vs_target.samples(), detail);
    };
  });
  progress.finish();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace octet::cli
