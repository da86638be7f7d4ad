#pragma once
// Regression evaluation for `eval --task regression`: runs a compiled plan over a dataset with
// float targets (one session per thread) and measures its outputs against the targets and,
// optionally, against a reference model's outputs on the same inputs.
#include <memory>
#include <optional>
#include <string>

#include "engine/compiled_plan.hpp"
#include "engine/data/dataset.hpp"
#include "tools/octet/regression_metrics.hpp"

namespace octet::cli {

struct RegressionResult {
  RegressionMetrics vs_target;
  std::optional<RegressionMetrics> vs_reference;  // with a reference plan
  double seconds = 0.0;
};

// True when `a` and `b` are the same shape once leading dimensions of size 1 are dropped from
// both ([1,1,28,28] and [1,28,28]): the element layout is then identical.
bool same_layout(const Shape& a, const Shape& b);

// Throw octet::Error, `context` first ("--task regression: "), unless the dataset has
// regression targets (require_...), laid out like the model output (check_..., same_layout).
void require_regression_targets(const data::Dataset& dataset, const std::string& context = "");
void check_regression_targets(const data::Dataset& dataset, const std::string& output_name, const Shape& output_shape,
                              const std::string& context = "");

// Throws octet::Error naming both shapes when the dataset has no targets, when an output's
// shape does not match the targets' (same_layout) or the reference's output shape differs.
// `reference` may be null. Metrics do not depend on `threads`.
RegressionResult evaluate_regression(std::shared_ptr<const CompiledPlan> plan,
                                     std::shared_ptr<const CompiledPlan> reference,
                                     const data::Dataset& dataset, int threads,
                                     const std::string& progress_label);

}  // namespace octet::cli
