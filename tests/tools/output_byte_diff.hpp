#pragma once
// The npu backend against ref on one model: both plans compiled, how many nodes the npu took, and
// a byte-for-byte comparison of their outputs over the first samples of a dataset (two threads,
// each taking half).
#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>

#include "engine/data/dataset.hpp"
#include "engine/model.hpp"
#include "engine/session.hpp"

namespace octet::test {

struct RefAndNpuPlans {
  std::shared_ptr<const CompiledPlan> ref, npu;
  size_t on_npu = 0;  // steps of the npu plan that run on the npu
};

// The model compiled for ref and for npu (default config).
inline RefAndNpuPlans ref_and_npu_plans(const Model& model) {
  SessionOptions npu_options;
  npu_options.backend = "npu";
  RefAndNpuPlans plans{compile(model, {}), compile(model, npu_options), 0};
  for (const PlanStep& step : plans.npu->steps()) plans.on_npu += step.backend == "npu";
  return plans;
}

struct ByteDiff {
  int64_t samples = 0;    // samples compared
  int64_t differing = 0;  // output bytes that differ, over all of them
};

inline ByteDiff output_byte_diff(std::shared_ptr<const CompiledPlan> a_plan, std::shared_ptr<const CompiledPlan> b_plan,
                                 const data::Dataset& dataset, size_t count) {
  std::atomic<int64_t> differing{0}, compared{0};
  auto worker = [&](size_t begin, size_t end) {
    Session a_session(a_plan), b_session(b_plan);
    Tensor x(DType::f32, a_session.input_info(0).shape);
    for (size_t i = begin; i < end; ++i) {
      dataset.sample(i, x.mutable_data<float>());
      const Tensor a = a_session.run({x})[0], b = b_session.run({x})[0];
      const auto* pa = static_cast<const uint8_t*>(a.raw());
      const auto* pb = static_cast<const uint8_t*>(b.raw());
      int64_t d = a.bytes() == b.bytes() ? 0 : static_cast<int64_t>(a.bytes());
      for (size_t j = 0; j < a.bytes() && j < b.bytes(); ++j) d += pa[j] != pb[j];
      differing += d;
      ++compared;
    }
  };
  std::thread first(worker, 0, count / 2);
  worker(count / 2, count);
  first.join();
  return {compared.load(), differing.load()};
}

}  // namespace octet::test
