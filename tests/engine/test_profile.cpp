// ModelProfiler on a small residual network quantized in the test: its statistics against
// numbers computed here from the two models' own outputs, ref and cpu side by side, the local
// mode, the histograms and timers, and the errors for models that do not match.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "engine/profile.hpp"
#include "engine/quantize.hpp"
#include "engine/session.hpp"
#include "quant/quantizer.hpp"
#include "tests/graph/graph_builder.hpp"

namespace octet {
namespace {

constexpr size_t kSamples = 6;

Tensor sample(size_t i, int64_t size = 8) {
  std::mt19937 rng(static_cast<uint32_t>(100 + i));
  return test::random_tensor({1, 2, size, size}, rng, 0.0f, 1.0f);
}

struct Models {
  Model fp32, int8;
};

Models residual_models(int64_t size = 8) {
  Model fp32 = Model::from_graph(test::residual_test_graph(7, 2, 4, size, 3));
  CalibrationSource calibration{8, [size](size_t i, Tensor& input) {
                                  const Tensor s = sample(50 + i, size);
                                  std::copy(s.data<float>(), s.data<float>() + s.elements(),
                                            input.mutable_data<float>());
                                }};
  Model int8 = quantize_model(fp32, quant::QuantizeOptions{}, calibration);
  return {fp32, int8};
}

ProfileReport profile(const Models& models, ProfileOptions options, size_t samples = kSamples) {
  ModelProfiler profiler(models.fp32, models.int8, std::move(options));
  // Each input is freed before the next run: the profilers must not hold on to any buffer.
  for (size_t i = 0; i < samples; ++i) {
    auto input = std::make_unique<Tensor>(sample(i));
    profiler.run(*input, static_cast<int64_t>(i % 3));
  }
  return profiler.report();
}

TEST(ModelProfiler, OutputSqnrAndTop1AgreeWithTheModelsRunHere) {
  const Models models = residual_models();
  ProfileOptions options;
  options.backends = {"ref", "cpu"};
  const ProfileReport report = profile(models, options);

  Session fp32(models.fp32), int8(models.int8, SessionOptions{"cpu", 1, {}, false});
  double signal = 0.0, noise = 0.0;
  size_t fp32_correct = 0, int8_correct = 0;
  for (size_t i = 0; i < kSamples; ++i) {
    const Tensor a = fp32.run({sample(i)})[0], b = int8.run({sample(i)})[0];
    for (int64_t j = 0; j < a.elements(); ++j) {
      const double r = a.data<float>()[j], e = b.data<float>()[j] - r;
      signal += r * r;
      noise += e * e;
    }
    auto argmax = [](const Tensor& t) {
      return std::max_element(t.data<float>(), t.data<float>() + t.elements()) - t.data<float>();
    };
    fp32_correct += argmax(a) == static_cast<int64_t>(i % 3);
    int8_correct += argmax(b) == static_cast<int64_t>(i % 3);
  }
  const double expected_sqnr = 10.0 * std::log10(signal / noise);
  ASSERT_EQ(report.backends.size(), 2u);
  for (const RunSummary& backend : report.backends) {
    ASSERT_TRUE(backend.output_error.has_value()) << backend.name;
    EXPECT_NEAR(backend.output_error->sqnr_db(), expected_sqnr, 1e-9) << backend.name;
    EXPECT_EQ(backend.output_error->count(), kSamples * 3);
    EXPECT_EQ(backend.labelled, kSamples);
    EXPECT_EQ(backend.correct_top1, int8_correct) << backend.name;
  }
  EXPECT_EQ(report.fp32.correct_top1, fp32_correct);
  EXPECT_EQ(report.samples, kSamples);
  EXPECT_EQ(report.output, "y");
}

TEST(ModelProfiler, BitExactBackendsGiveIdenticalLayerStatistics) {
  ProfileOptions options;
  options.backends = {"ref", "cpu"};
  const ProfileReport report = profile(residual_models(), options);
  size_t compared = 0;
  for (const LayerReport& layer : report.layers) {
    ASSERT_EQ(layer.backends.size(), 2u);
    const auto& ref = layer.backends[0];
    const auto& cpu = layer.backends[1];
    EXPECT_EQ(ref.ran_on, "ref");
    EXPECT_EQ(ref.propagated.has_value(), !layer.reference.empty()) << layer.node;
    if (!ref.propagated) continue;
    ++compared;
    ASSERT_TRUE(cpu.propagated && cpu.local && ref.local) << layer.node;
    EXPECT_EQ(ref.propagated->mse(), cpu.propagated->mse()) << layer.node;
    EXPECT_EQ(ref.local->mse(), cpu.local->mse()) << layer.node;
    EXPECT_EQ(ref.propagated->differing(), cpu.propagated->differing()) << layer.node;
    if (layer.op == "QConv" || layer.op == "QGemm") {
      ASSERT_TRUE(ref.overflow && cpu.overflow) << layer.node;
      EXPECT_EQ(ref.overflow->outputs, cpu.overflow->outputs);
      EXPECT_GT(ref.overflow->outputs, 0u);
      EXPECT_GT(layer.macs, 0);
      EXPECT_GT(layer.weight_bytes, 0u);
    }
  }
  EXPECT_GE(compared, 8u);
}

TEST(ModelProfiler, LocalErrorOfTheInputQuantizeEqualsItsPropagatedError) {
  // The first node reads the exact fp32 input in both modes; from the second int8 layer on,
  // local inputs are the quantized fp32 values, so local and propagated part ways.
  const ProfileReport report = profile(residual_models(), ProfileOptions{});
  const LayerReport& first = report.layers.front();
  ASSERT_EQ(first.op, "QuantizeLinear");
  EXPECT_EQ(first.backends[0].local->mse(), first.backends[0].propagated->mse());
  EXPECT_GT(first.backends[0].local->mse(), 0.0);
  // The output Dequantize in local mode only re-quantizes the fp32 logits: its local error is
  // exactly the ideal output quantization error the fp32 histogram pass measures (rounding
  // plus clipping of y with y.q's qparams).
  const LayerReport& last = report.layers.back();
  ASSERT_EQ(last.op, "DequantizeLinear");
  const TensorReport* y = nullptr;
  for (const auto& tensor : report.tensors)
    if (tensor.fp32.value == "y") y = &tensor;
  ASSERT_NE(y, nullptr);
  const double ideal = y->fp32.clip_mse() + y->fp32.rounding_mse();
  EXPECT_NEAR(last.backends[0].local->mse(), ideal, 1e-9 * ideal);
}

TEST(ModelProfiler, HistogramsTimersAndMemoryCoverEverySample) {
  ProfileOptions options;
  options.timing_runs = 4;
  const ProfileReport report = profile(residual_models(), options);
  ASSERT_FALSE(report.tensors.empty());
  for (const TensorReport& tensor : report.tensors) {
    ASSERT_EQ(tensor.codes.size(), 1u);
    ASSERT_TRUE(tensor.codes[0].has_value()) << tensor.fp32.value;
    EXPECT_EQ(tensor.fp32.count(), tensor.codes[0]->total()) << tensor.fp32.value;
    EXPECT_EQ(tensor.fp32.count() % kSamples, 0u);
    EXPECT_GT(tensor.codes[0]->levels_used(), 1);
    EXPECT_LT(tensor.fp32.range_lo, tensor.fp32.range_hi);
  }
  EXPECT_EQ(report.fp32.timed_runs, 4u);
  EXPECT_EQ(report.backends[0].timed_runs, 4u);
  EXPECT_GT(report.backends[0].latency_median_ms, 0.0);
  for (const LayerReport& layer : report.layers)
    EXPECT_EQ(layer.backends[0].timed_runs, 4u) << layer.node;
  EXPECT_GT(report.backends[0].quantize_ms, 0.0);
  ASSERT_EQ(report.adds.size(), 1u);
  EXPECT_TRUE(report.adds[0].diagnostic.int8);
  EXPECT_EQ(report.adds[0].ran_on[0], "ref");
  // The fp32 copies: x, every compared activation, 4 bytes each.
  EXPECT_GT(report.reference_bytes, 0u);
  EXPECT_LT(report.reference_bytes, 64u * 1024);
  EXPECT_GT(report.peak_rss_bytes, 0u);
}

TEST(ModelProfiler, ModesCanBeTurnedOff) {
  ProfileOptions options;
  options.local = false;
  options.count_overflow = false;
  const ProfileReport report = profile(residual_models(), options, 2);
  for (const LayerReport& layer : report.layers) {
    EXPECT_FALSE(layer.backends[0].local.has_value());
    EXPECT_FALSE(layer.backends[0].overflow.has_value());
  }
  options.local = true;
  options.propagated = false;
  const ProfileReport local_only = profile(residual_models(), options, 2);
  EXPECT_FALSE(local_only.backends[0].output_error.has_value());
  options.local = false;
  EXPECT_NE(test::error_message([&] { profile(residual_models(), options, 1); }).find("mode"),
            std::string::npos);
}

TEST(ModelProfiler, MismatchedModelsAreRefusedNamingTheDifference) {
  const Models models = residual_models();
  const Models bigger = residual_models(10);
  OCTET_EXPECT_CONTAINS(test::error_message([&] { ModelProfiler(models.fp32, bigger.int8, {}); }),
                        "input 'x' is");
  OCTET_EXPECT_CONTAINS(test::error_message([&] { ModelProfiler(models.fp32, models.fp32, {}); }),
                        "no int8 activation");
  ProfileOptions twice;
  twice.backends = {"ref", "ref"};
  OCTET_EXPECT_CONTAINS(
      test::error_message([&] { ModelProfiler(models.fp32, models.int8, twice); }), "twice");
  ProfileOptions unknown;
  unknown.backends = {"tpu"};
  OCTET_EXPECT_CONTAINS(
      test::error_message([&] { ModelProfiler(models.fp32, models.int8, unknown); }),
      "unknown backend 'tpu'");
}

}  // namespace
}  // namespace octet
