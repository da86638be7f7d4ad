// The profiler hooks called directly with NodeEvents over buffers that are freed right after
// each call (so that any pointer a hook kept would be a use-after-free under AddressSanitizer),
// checked against statistics computed here from the same data.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include "graph/error.hpp"
#include "quant/hist_profiler.hpp"
#include "quant/layer_timer.hpp"
#include "quant/local_input_swap.hpp"
#include "quant/qadd_diagnostics.hpp"
#include "quant/quantizer.hpp"
#include "quant/reference_activations.hpp"
#include "quant/stat_profiler.hpp"

using namespace octet;

namespace {

const quant::AffineParams kParams{0.05f, -10};
const Shape kShape{1, 6};

// fp32: x -> Relu 'act' -> y.   int8: x -> QuantizeLinear 'x.quantize' -> x.q -> 'act' -> y.q.
// Only names, dtypes and qparams matter to the hooks.
Graph reference_graph() {
  Graph g;
  g.inputs = {"x"};
  g.outputs = {"y"};
  g.values["x"] = {DType::f32, kShape};
  g.values["y"] = {DType::f32, kShape};
  g.nodes.push_back({"act", "Relu", {"x"}, {"y"}, {}});
  return g;
}

Graph tested_graph() {
  Graph g;
  g.inputs = {"x"};
  g.outputs = {"y.q"};
  g.values["x"] = {DType::f32, kShape};
  g.values["x.q"] = {DType::i8, kShape};
  g.values["y.q"] = {DType::i8, kShape};
  g.quant["x.q"] = {{kParams.scale}, {kParams.zero_point}, -1};
  g.quant["y.q"] = {{kParams.scale}, {kParams.zero_point}, -1};
  g.nodes.push_back({"x.quantize", "QuantizeLinear", {"x"}, {"x.q"}, {}});
  g.nodes.push_back({"act", "QRelu", {"x.q"}, {"y.q"}, {}});
  return g;
}

// Heap buffers for one call, freed when the object dies.
struct Buffers {
  std::unique_ptr<float[]> x = std::make_unique<float[]>(6), y = std::make_unique<float[]>(6);
  std::unique_ptr<int8_t[]> xq = std::make_unique<int8_t[]>(6), yq = std::make_unique<int8_t[]>(6);
};

void run_reference(const Graph& g, ExecutionHook& hook, const std::vector<float>& x,
                   const std::vector<float>& y) {
  Buffers b;
  std::copy(x.begin(), x.end(), b.x.get());
  std::copy(y.begin(), y.end(), b.y.get());
  TensorView in{b.x.get(), DType::f32, &kShape}, out{b.y.get(), DType::f32, &kShape};
  NodeEvent event{g.nodes[0], 0, &in, 1, &out, 1, "ref"};
  hook.before(event);
  hook.after(event);
}

void run_tested(const Graph& g, const std::vector<ExecutionHook*>& hooks,
                const std::vector<int8_t>& yq, std::vector<int8_t>* input_seen = nullptr) {
  Buffers b;
  std::fill(b.xq.get(), b.xq.get() + 6, int8_t{99});
  std::copy(yq.begin(), yq.end(), b.yq.get());
  TensorView in{b.xq.get(), DType::i8, &kShape}, out{b.yq.get(), DType::i8, &kShape};
  NodeEvent event{g.nodes[1], 1, &in, 1, &out, 1, "ref"};
  for (ExecutionHook* hook : hooks) hook->before(event);
  if (input_seen) input_seen->assign(b.xq.get(), b.xq.get() + 6);
  for (ExecutionHook* hook : hooks) hook->after(event);
}

TEST(ProfilerHooks, StatProfilerComparesEachSampleWithItsReferenceAndKeepsNothing) {
  const Graph reference = reference_graph(), tested = tested_graph();
  quant::ReferenceActivations activations(reference, tested);
  EXPECT_EQ(activations.count(), 2u);  // x and y
  EXPECT_EQ(activations.bytes(), 2u * 6 * sizeof(float));
  quant::StatProfiler stat(tested, activations);
  ASSERT_EQ(stat.layers().size(),
            2u);  // x.q against x (the input's own quantization), y.q against y
  ASSERT_NE(stat.find_node("act"), nullptr);
  EXPECT_EQ(stat.find_node("act")->reference, "y");
  EXPECT_EQ(stat.find_node("x.quantize")->reference, "x");

  const std::vector<std::vector<float>> ys = {{0.0f, 0.1f, 0.52f, 1.0f, 2.0f, 7.0f},
                                              {0.3f, 0.33f, 0.0f, 0.05f, 4.0f, 0.8f}};
  const std::vector<std::vector<int8_t>> yqs = {{-10, -8, 1, 10, 30, 127},
                                                {-4, -3, -10, -9, 70, 6}};
  quant::ErrorStats expected;
  for (size_t s = 0; s < ys.size(); ++s) {
    run_reference(reference, activations, ys[s], ys[s]);
    run_tested(tested, {&stat}, yqs[s]);
    for (size_t i = 0; i < 6; ++i) {
      const int8_t ideal = quant::quantize_value(ys[s][i], kParams);
      expected.add(ys[s][i], quant::dequantize_value(yqs[s][i], kParams), yqs[s][i] != ideal);
    }
  }
  const quant::LayerError& layer = *stat.find_node("act");
  EXPECT_EQ(layer.error.count(), 12u);
  EXPECT_NEAR(layer.error.mse(), expected.mse(), 1e-12 * expected.mse());
  EXPECT_NEAR(layer.error.sqnr_db(), expected.sqnr_db(), 1e-9);
  EXPECT_DOUBLE_EQ(layer.error.differ_fraction(), expected.differ_fraction());
  // 7.0 clipped to code 127 = (127 + 10) · 0.05 = 6.85: the largest error, 3 LSBs.
  EXPECT_NEAR(layer.max_abs_error_lsb(), 3.0, 1e-5);
}

TEST(ProfilerHooks, LocalInputSwapFeedsTheQuantizedReferenceInput) {
  const Graph reference = reference_graph(), tested = tested_graph();
  quant::ReferenceActivations activations(reference, tested);
  quant::LocalInputSwap swap(tested, activations);
  const std::vector<float> x = {-1.0f, 0.0f, 0.26f, 1.0f, 5.0f, 9.0f};
  run_reference(reference, activations, x, x);
  std::vector<int8_t> seen;
  run_tested(tested, {&swap}, std::vector<int8_t>(6, 0), &seen);
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(seen[i], quant::quantize_value(x[i], kParams)) << i;
}

TEST(ProfilerHooks, HistogramsCountRangeClippingAndCodes) {
  const Graph reference = reference_graph(), tested = tested_graph();
  quant::TensorHistogramProfiler histograms(reference, tested, 64);
  // Representable range: 0.05 · (-128 + 10) = -5.9 .. 0.05 · (127 + 10) = 6.85.
  run_reference(reference, histograms, {-7.0f, 0.0f, 1.0f, 2.0f, 6.87f, 6.9f},
                {0.0f, 0.0f, 1.0f, 2.0f, 6.5f, 8.0f});
  const quant::TensorHistogram* x = histograms.find("x");
  const quant::TensorHistogram* y = histograms.find("y");
  ASSERT_TRUE(x && y);
  EXPECT_NEAR(x->range_lo, -5.9f, 1e-6);
  EXPECT_NEAR(x->range_hi, 6.85f, 1e-6);
  EXPECT_EQ(x->below, 1u);  // -7
  EXPECT_EQ(x->above, 1u);  // 6.9 (6.87 is within half an LSB: rounded, not clipped)
  EXPECT_NEAR(x->clipped_fraction(), 2.0 / 6.0, 1e-12);
  EXPECT_NEAR(x->clip_mse(), (1.1 * 1.1 + 0.05 * 0.05) / 6.0, 1e-6);
  EXPECT_EQ(x->count(), 6u);
  EXPECT_EQ(y->above, 1u);
  EXPECT_EQ(y->histogram.max(), 8.0f);

  quant::CodeHistogramProfiler codes(tested);
  run_tested(tested, {&codes}, {-128, -128, 0, 5, 127, 0});
  run_tested(tested, {&codes}, {1, 1, 1, 1, 1, 1});
  const quant::CodeHistogram* y_codes = codes.find("y.q");
  ASSERT_TRUE(y_codes);
  EXPECT_EQ(y_codes->total(), 12u);
  EXPECT_EQ(y_codes->levels_used(), 5);  // -128, 0, 1, 5, 127
  EXPECT_EQ(y_codes->counts[0], 2u);
  EXPECT_EQ(y_codes->counts[129], 6u);
}

TEST(ProfilerHooks, HooksAttachedToAnotherModelFailWithAMessage) {
  const Graph reference = reference_graph(), tested = tested_graph();
  quant::ReferenceActivations activations(reference, tested);
  Graph other = reference_graph();
  other.nodes[0].outputs = {"z"};
  Buffers b;
  TensorView in{b.x.get(), DType::f32, &kShape}, out{b.y.get(), DType::f32, &kShape};
  NodeEvent event{other.nodes[0], 0, &in, 1, &out, 1, "ref"};
  try {
    activations.after(event);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("another model"), std::string::npos) << e.what();
  }
}

TEST(ProfilerHooks, LayerTimerMedianComesFromItsFixedHistogram) {
  quant::DurationHistogram durations;
  for (double ms : {5.0, 1.0, 3.0, 2.0, 100.0}) durations.add(ms * 1e-3);
  EXPECT_NEAR(durations.median_seconds(), 3e-3, 3e-3 * 0.011);
  EXPECT_DOUBLE_EQ(durations.min_seconds(), 1e-3);
  EXPECT_NEAR(durations.mean_seconds(), 22.2e-3, 1e-12);
  EXPECT_EQ(durations.count(), 5u);
  EXPECT_EQ(quant::DurationHistogram().median_seconds(), 0.0);
}

TEST(ProfilerHooks, QAddDiagnosticsReportScalesBitsAndMultipliers) {
  Graph reference;
  reference.nodes.push_back({"add", "Add", {"a", "b"}, {"s"}, {}});
  reference.nodes.push_back({"add2", "Add", {"s", "c"}, {"t"}, {}});
  Graph tested;
  tested.nodes.push_back({"add", "QAdd", {"a.q", "b.q"}, {"s.q"}, {}});
  tested.nodes.push_back({"add2", "Add", {"s", "c"}, {"t"}, {}});
  tested.quant["a.q"] = {{0.1f}, {0}, -1};
  tested.quant["b.q"] = {{0.1f / 16}, {3}, -1};
  tested.quant["s.q"] = {{0.2f}, {-5}, -1};
  const auto adds = quant::qadd_diagnostics(reference, tested);
  ASSERT_EQ(adds.size(), 2u);
  EXPECT_TRUE(adds[0].int8);
  EXPECT_NEAR(adds[0].scale_ratio, 16.0, 1e-5);
  EXPECT_NEAR(adds[0].bits_lost, 4.0, 1e-5);
  EXPECT_NEAR(adds[0].finer_bits_below_output, 5.0, 1e-5);
  EXPECT_EQ(adds[0].finer, "b.q");
  const kernels::QAddParams expected =
      quant::make_qadd_params({0.1f, 0}, {0.1f / 16, 3}, {0.2f, -5}, -128, 127);
  EXPECT_EQ(adds[0].params.a_multiplier.multiplier, expected.a_multiplier.multiplier);
  EXPECT_EQ(adds[0].params.b_multiplier.shift, expected.b_multiplier.shift);
  EXPECT_EQ(adds[0].params.output_multiplier.multiplier, expected.output_multiplier.multiplier);
  EXPECT_FALSE(adds[1].int8);
  EXPECT_EQ(adds[1].tested_op, "Add");
}

}  // namespace
