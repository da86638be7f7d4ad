#pragma once
// Classifier evaluation shared by `eval` and `compare`: runs a compiled plan over a labelled
// dataset with one session per thread and tallies top-1 / top-5.
#include <memory>
#include <string>

#include "engine/compiled_plan.hpp"
#include "engine/data/dataset.hpp"

namespace octet::cli {

struct EvalResult {
  size_t samples = 0;
  size_t correct_top1 = 0;
  double top1 = 0.0, top5 = 0.0;
  double seconds = 0.0;
  double latency_p50_ms = 0.0;  // median wall time of one inference
};

// Checks that the dataset fits the model (one f32 input of the sample's size, labels within the
// output's classes) and throws octet::Error naming both otherwise.
EvalResult evaluate_classifier(std::shared_ptr<const CompiledPlan> plan, const data::Dataset& dataset,
                               int threads, const std::string& progress_label);

}  // namespace octet::cli
