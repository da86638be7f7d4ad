#pragma once
// Classifier evaluation shared by `eval` and `compare`: runs a compiled plan over a labelled
// dataset with one session per thread and tallies top-1 / top-5.
#include <memory>
#include <string>
#include <vector>

#include "engine/compiled_plan.hpp"
#include "engine/data/dataset.hpp"
#include "engine/session.hpp"

namespace octet::cli {

struct EvalResult {
  size_t samples = 0;
  size_t correct_top1 = 0;
  double top1 = 0.0, top5 = 0.0;
  double seconds = 0.0;
  double latency_p50_ms = 0.0;  // median wall time of one inference
};

// The one input and one f32 output of a plan fed from `dataset`: throws octet::Error unless the
// plan has exactly one of each and the input is f32 with the sample's element count. `which`
// names the model in messages ("model", "--ref model").
struct SingleIo {
  const ValueSlot& input;
  const ValueSlot& output;
};
SingleIo dataset_io(const CompiledPlan& plan, const data::Dataset& dataset, const std::string& which);

// One thread's session on a single-input, single-output plan, with its own input and output.
class SampleRunner {
 public:
  SampleRunner(std::shared_ptr<const CompiledPlan> plan, const SingleIo& io);
  float* input() { return input_.mutable_data<float>(); }
  const float* output() const { return output_.data<float>(); }
  void run() { session_.run(inputs_, outputs_); }

 private:
  Session session_;
  Tensor input_, output_;
  std::vector<TensorView> inputs_, outputs_;
};

// Checks that the dataset fits the model (one f32 input of the sample's size, labels within the
// output's classes) and throws octet::Error naming both otherwise.
EvalResult evaluate_classifier(std::shared_ptr<const CompiledPlan> plan, const data::Dataset& dataset,
                               int threads, const std::string& progress_label);

}  // namespace octet::cli
