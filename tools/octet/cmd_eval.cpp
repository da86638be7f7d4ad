// octet eval MODEL --data SPEC: top-1/top-5 accuracy of a classifier on a labelled dataset.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

#include "engine/data/dataset_spec.hpp"
#include "engine/session.hpp"
#include "tools/octet/backend_options.hpp"
#include "tools/octet/commands.hpp"
#include "tools/octet/data_options.hpp"
#include "tools/octet/evaluate.hpp"
#include "tools/octet/model_loader.hpp"

namespace octet::cli {

Command add_eval_command(CLI::App& app) {
  auto* sub = app.add_subcommand("eval", "Top-1/top-5 accuracy of a classifier on a labelled dataset");
  struct Options {
    std::string model;
    BackendFlags backend;
    DataOptions data;
    int threads = 1;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  sub->add_option("model", o->model, "Model file (.onnx or .oct)")->required();
  add_data_options(*sub, o->data, "--data", true);
  add_backend_flags(*sub, o->backend, "ref");
  sub->add_option("--threads", o->threads, "Worker threads (one session each)")
      ->capture_default_str()->check(CLI::Range(1, 256));
  sub->add_flag("--json", o->json, "Print one JSON object");
  return [o]() {
    data::Dataset dataset = load_data(o->data);
    Model model = load_model(o->model);
    const EvalResult r =
        evaluate_classifier(compile(model, session_options(o->backend, model)), dataset, o->threads, "eval " + o->model);
    if (o->json) {
      nlohmann::json out = {{"model", o->model},       {"data", o->data.spec},      {"backend", o->backend.backend},
                            {"samples", r.samples},    {"top1", r.top1},            {"top5", r.top5},
                            {"correct_top1", r.correct_top1}, {"threads", o->threads},
                            {"seconds", r.seconds},    {"latency_ms", {{"p50", r.latency_p50_ms}}}};
      std::cout << out.dump(2) << "\n";
    } else {
      std::printf("model     %s\ndata      %s (%zu samples)\nbackend   %s\ntop-1     %.4f (%zu correct)\n"
                  "top-5     %.4f\nlatency   %.3f ms median per sample\n",
                  o->model.c_str(), o->data.spec.c_str(), r.samples, o->backend.backend.c_str(), r.top1,
                  r.correct_top1, r.top5, r.latency_p50_ms);
    }
    return 0;
  };
}

}  // namespace octet::cli
