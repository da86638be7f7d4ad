// octet eval MODEL --data SPEC: top-1/top-5 accuracy of a classifier on a labelled dataset, or
// (--task regression) MAE, abs_rel and PSNR of a model's outputs against the dataset's targets
// and, with --ref, against a reference model's outputs.
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>

#include "engine/data/dataset_spec.hpp"
#include "engine/session.hpp"
#include "graph/error.hpp"
#include "tools/octet/backend_options.hpp"
#include "tools/octet/commands.hpp"
#include "tools/octet/data_options.hpp"
#include "tools/octet/evaluate.hpp"
#include "tools/octet/evaluate_regression.hpp"
#include "tools/octet/regression_report.hpp"
#include "tools/octet/model_loader.hpp"

namespace octet::cli {
namespace {

struct Options {
  std::string model, task = "classification", ref;
  BackendFlags backend;
  DataOptions data;
  int threads = 1;
  bool json = false;
};

int run_classification(const Options& o, const data::Dataset& dataset) {
  Model model = load_model(o.model);
  const EvalResult r =
      evaluate_classifier(compile(model, session_options(o.backend, model)), dataset, o.threads, "eval " + o.model);
  if (o.json) {
    nlohmann::json out = {{"model", o.model},       {"data", o.data.spec},      {"backend", o.backend.backend},
                          {"samples", r.samples},    {"top1", r.top1},            {"top5", r.top5},
                          {"correct_top1", r.correct_top1}, {"threads", o.threads},
                          {"seconds", r.seconds},    {"latency_ms", {{"p50", r.latency_p50_ms}}}};
    std::cout << out.dump(2) << "\n";
  } else {
    std::printf("model     %s\ndata      %s (%zu samples)\nbackend   %s\ntop-1     %.4f (%zu correct)\n"
                "top-5     %.4f\nlatency   %.3f ms median per sample\n",
                o.model.c_str(), o.data.spec.c_str(), r.samples, o.backend.backend.c_str(), r.top1,
                r.correct_top1, r.top5, r.latency_p50_ms);
  }
  return 0;
}

int run_regression(const Options& o, const data::Dataset& dataset) {
  const Model model = load_model(o.model);
  std::shared_ptr<const CompiledPlan> reference;
  if (!o.ref.empty()) {
    const Model ref_model = load_model(o.ref);
    reference = compile(ref_model, session_options(o.backend, ref_model));
  }
  const RegressionResult r = evaluate_regression(compile(model, session_options(o.backend, model)), reference, dataset,
                                                 o.threads, "eval " + o.model);
  if (o.json) {
    nlohmann::json out = {{"model", o.model},     {"data", o.data.spec},
                          {"backend", o.backend.backend}, {"task", "regression"},
                          {"samples", r.vs_target.samples()},
                          {"threads", o.threads}, {"seconds", r.seconds},
                          {"vs_target", metrics_json(r.vs_target)}};
    if (r.vs_reference) {
      out["ref"] = o.ref;
      out["vs_ref"] = metrics_json(*r.vs_reference);
    }
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::printf("model     %s\ndata      %s (%zu samples)\nbackend   %s\nvs target %s\n", o.model.c_str(),
              o.data.spec.c_str(), r.vs_target.samples(), o.backend.backend.c_str(), metrics_text(r.vs_target).c_str());
  if (r.vs_reference)
    std::printf("vs ref    %s  (%s)\n", metrics_text(*r.vs_reference).c_str(), o.ref.c_str());
  return 0;
}

}  // namespace

Command add_eval_command(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "eval", "Top-1/top-5 accuracy of a classifier, or MAE/abs_rel/PSNR of a regression model, on a dataset");
  auto o = std::make_shared<Options>();
  sub->add_option("model", o->model, "Model file (.onnx or .oct)")->required();
  add_data_options(*sub, o->data, "--data", true);
  sub->add_option("--targets", o->data.targets, "Regression targets .npy, float32 (N, output dims) (with a .npy data file)");
  sub->add_option("--task", o->task, "classification (labels: top-1/top-5) or regression (targets: MAE, abs_rel, PSNR)")
      ->capture_default_str()->check(CLI::IsMember({"classification", "regression"}));
  sub->add_option("--ref", o->ref, "Regression: reference model (e.g. the fp32 one) run on the same inputs; "
                                   "also reports this model's errors against its outputs");
  add_backend_flags(*sub, o->backend, "ref");
  sub->add_option("--threads", o->threads, "Worker threads (one session each)")
      ->capture_default_str()->check(CLI::Range(1, 256));
  sub->add_flag("--json", o->json, "Print one JSON object");
  return [o]() {
    const bool regression = o->task == "regression";
    if (!regression && !o->ref.empty()) throw Error("--ref is only used with --task regression");
    if (!regression && !o->data.targets.empty()) throw Error("--targets is only used with --task regression");
    const data::Dataset dataset = load_data(o->data);
    return regression ? run_regression(*o, dataset) : run_classification(*o, dataset);
  };
}

}  // namespace octet::cli
