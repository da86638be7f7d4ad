// Sensitivity analysis and the int8-graph edits it is made of (keep one node in fp32, give one
// activation another range), on a small residual network quantized here.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "engine/quantize.hpp"
#include "engine/sensitivity.hpp"
#include "engine/session.hpp"
#include "quant/fallback_edits.hpp"
#include "quant/quantizer.hpp"
#include "tests/graph/graph_builder.hpp"

namespace octet {
namespace {

Tensor sample(size_t i) {
  std::mt19937 rng(static_cast<uint32_t>(300 + i));
  return test::random_tensor({1, 2, 8, 8}, rng, 0.0f, 1.0f);
}

struct Models {
  Model fp32, int8;
};

const Models& models() {
  static const Models m = [] {
    Model fp32 = Model::from_graph(test::residual_test_graph(11, 2, 4, 8, 3));
    CalibrationSource calibration{16, [](size_t i, Tensor& input) {
                                    const Tensor s = sample(100 + i);
                                    std::copy(s.data<float>(), s.data<float>() + s.elements(),
                                              input.mutable_data<float>());
                                  }};
    return Models{fp32, quantize_model(fp32, quant::QuantizeOptions{}, calibration)};
  }();
  return m;
}

double output_sqnr(const Graph& graph, size_t samples = 8) {
  Session fp32(models().fp32), int8(Model::from_graph(graph, false));
  double signal = 0.0, noise = 0.0;
  for (size_t i = 0; i < samples; ++i) {
    const Tensor r = fp32.run({sample(i)})[0], t = int8.run({sample(i)})[0];
    for (int64_t j = 0; j < r.elements(); ++j) {
      const double e = static_cast<double>(t.data<float>()[j]) - r.data<float>()[j];
      signal += static_cast<double>(r.data<float>()[j]) * r.data<float>()[j];
      noise += e * e;
    }
  }
  return noise == 0.0 ? INFINITY : 10.0 * std::log10(signal / noise);
}

std::string output_of(const Graph& graph, const std::string& node) {
  return test::find_node(graph, node)->outputs[0];
}

TEST(FallbackEdits, KeepingTheLastLayerInFloatDropsItsDequantize) {
  const Graph& int8 = models().int8.graph();
  const Graph edited = quant::keep_node_float(int8, models().fp32.graph(), "fc");
  EXPECT_EQ(test::find_node(edited, "fc")->op, "Gemm");
  EXPECT_EQ(edited.value_info("y").dtype, DType::f32);
  EXPECT_EQ(test::find_node(edited, "y.dequantize"), nullptr);
  EXPECT_FALSE(edited.values.count("y.q"));
  // fc's input is dequantized for it instead; nothing else changes.
  size_t dequantize = 0;
  for (const Node& node : edited.nodes) dequantize += node.op == "DequantizeLinear";
  EXPECT_EQ(dequantize, 1u);
  EXPECT_EQ(test::find_node(edited, "flato.dequantize")->op, "DequantizeLinear");
  EXPECT_GT(output_sqnr(edited), output_sqnr(int8));
}

TEST(FallbackEdits, KeepingAnInnerLayerInFloatRequantizesItsOutputForInt8Readers) {
  const Graph& int8 = models().int8.graph();
  const Graph edited = quant::keep_node_float(int8, models().fp32.graph(), "c2");
  const Node* conv = test::find_node(edited, "c2");
  ASSERT_NE(conv, nullptr);
  EXPECT_EQ(conv->op, "Conv");
  const std::string output = conv->outputs[0];
  const Node* requantize = test::find_node(edited, output + ".quantize");
  ASSERT_NE(requantize, nullptr);
  EXPECT_EQ(requantize->outputs[0], output + ".q");
  EXPECT_EQ(edited.quant.at(output + ".q"),
            int8.quant.at(output + ".q"));  // the same qparams for its readers
  EXPECT_TRUE(std::isfinite(output_sqnr(edited)));
  try {
    quant::keep_node_float(edited, models().fp32.graph(), "c2");
    FAIL() << "no error";
  } catch (const Error& e) {
    OCTET_EXPECT_CONTAINS(std::string(e.what()), "already runs in fp32");
  }
  EXPECT_THROW(quant::keep_node_float(int8, models().fp32.graph(), "nope"), Error);
}

TEST(FallbackEdits, RerangingToTheSameRangeChangesNothing) {
  const Graph& int8 = models().int8.graph();
  const std::string value = output_of(int8, "c1");
  const QuantParams& q = int8.quant.at(value);
  const quant::AffineParams params{q.scales[0], q.zero_points[0]};
  const quant::Range same{quant::dequantize_value(-128, params),
                          quant::dequantize_value(127, params)};
  const Graph edited = quant::rerange_activation(int8, value, same, false);
  EXPECT_NEAR(edited.quant.at(value).scales[0], q.scales[0], q.scales[0] * 1e-6);
  EXPECT_DOUBLE_EQ(output_sqnr(edited), output_sqnr(int8));
}

TEST(FallbackEdits, RerangingFollowsPassThroughOpsAndRescalesReaderBiases) {
  const Graph& int8 = models().int8.graph();
  // The Add's output goes through GlobalAveragePool and Flatten (codes passed through) to fc.
  const std::string sum = output_of(int8, "add");
  const Graph edited = quant::rerange_activation(int8, sum, {0.0f, 20.0f}, false);
  const float scale = edited.quant.at(sum).scales[0];
  EXPECT_NEAR(scale, 20.0f / 255.0f, 1e-6);
  EXPECT_EQ(edited.quant.at(output_of(edited, "gap")).scales[0], scale);
  EXPECT_EQ(edited.quant.at(output_of(edited, "flat")).scales[0], scale);
  // fc's int32 bias was b / (s_in · s_w): it scales with 1 / s_in.
  const Node* fc = test::find_node(edited, "fc");
  const double factor = static_cast<double>(int8.quant.at(sum).scales[0]) / scale;
  const Tensor& before = *int8.initializer(fc->inputs[2]);
  const Tensor& after = *edited.initializer(fc->inputs[2]);
  for (int64_t i = 0; i < after.elements(); ++i)
    EXPECT_EQ(after.data<int32_t>()[i],
              static_cast<int32_t>(std::nearbyint(before.data<int32_t>()[i] * factor)));
  EXPECT_TRUE(std::isfinite(output_sqnr(edited)));
  // A pass-through value shares its input's scale: re-range where the scale is set instead.
  EXPECT_THROW(quant::rerange_activation(int8, output_of(int8, "gap"), {0.0f, 1.0f}, false), Error);
}

// Nearest Resize passes codes through (its output keeps its input's qparams), as in a decoder's
// upsampling: re-ranging the conv before it must move the Resize's output with it, or the edited
// graph is invalid (found on the bundled denoiser).
TEST(FallbackEdits, RerangingFollowsANearestResize) {
  test::GraphBuilder b("upsample", 5);
  b.input("x", {1, 2, 4, 4});
  b.conv("c1", "x", "c1o", 2, 3, 1, true);
  b.node("Resize", "up", {"c1o"}, {"upo"},
         {{"mode", std::string("nearest")}, {"scales", std::vector<float>{1, 1, 2, 2}}});
  b.conv("c2", "upo", "y", 3, 2, 1, true);
  b.output("y");
  const Model fp32 = Model::from_graph(b.build());
  CalibrationSource calibration{4, [](size_t i, Tensor& input) {
                                  std::mt19937 rng(static_cast<uint32_t>(i));
                                  input = test::random_tensor({1, 2, 4, 4}, rng, -1.0f, 1.0f);
                                }};
  const Model int8 = quantize_model(fp32, quant::QuantizeOptions{}, calibration);
  const std::string value = output_of(int8.graph(), "c1");
  const Graph edited = quant::rerange_activation(int8.graph(), value, {-3.0f, 3.0f}, false);
  const float scale = edited.quant.at(value).scales[0];
  EXPECT_NEAR(scale, 6.0f / 255.0f, 1e-6);
  EXPECT_EQ(edited.quant.at(output_of(edited, "up")).scales[0], scale);
  EXPECT_NO_THROW(Model::from_graph(edited, false));
}

TEST(Sensitivity, ReportsEveryTrialAndRanksLayersByRecoveredSqnr) {
  SensitivitySamples samples;
  samples.count = 6;
  samples.fill = [](size_t i, Tensor& input) {
    const Tensor s = sample(i);
    std::copy(s.data<float>(), s.data<float>() + s.elements(), input.mutable_data<float>());
  };
  samples.label = [](size_t i) { return static_cast<int64_t>(i % 3); };
  samples.calibration_count = 8;
  samples.fill_calibration = samples.fill;
  SensitivityOptions options;
  options.backend = "ref";
  options.observers = {"minmax", "percentile"};
  size_t progress_calls = 0;
  const SensitivityReport report = analyze_sensitivity(
      models().fp32, models().int8, samples, options, [&](size_t, size_t) { ++progress_calls; });
  // c1, c2, proj, add, fc: one fp32 trial and two observer trials each.
  EXPECT_EQ(report.trials.size(), 15u);
  EXPECT_EQ(progress_calls, 16u);
  EXPECT_EQ(report.ranking.size(), 5u);
  EXPECT_NEAR(report.base_sqnr_db, output_sqnr(models().int8.graph(), 6), 1e-9);
  ASSERT_TRUE(report.base_top1 && report.fp32_top1);
  for (size_t i = 1; i < report.ranking.size(); ++i)
    EXPECT_GE(report.ranking[i - 1].best.recovered_sqnr_db,
              report.ranking[i].best.recovered_sqnr_db);
  for (const SensitivityTrial& t : report.trials) {
    EXPECT_NEAR(t.recovered_sqnr_db, t.output_sqnr_db - report.base_sqnr_db, 1e-9);
    ASSERT_TRUE(t.top1.has_value());
  }
  // The fp32 trial of fc is the edit tested above, scored the same way.
  const Graph fc_float = quant::keep_node_float(models().int8.graph(), models().fp32.graph(), "fc");
  for (const SensitivityTrial& t : report.trials) {
    if (t.layer != "fc" || t.fix != "fp32") continue;
    EXPECT_NEAR(t.output_sqnr_db, output_sqnr(fc_float, 6), 1e-9);
  }
}

// Whole-model trials (how `octet profile --sensitivity` measures CLE and bias correction): scored
// after the layer trials against the same fp32 outputs, not ranked with the layers, and built only
// when scored.
TEST(Sensitivity, ModelTrialsAreScoredLikeLayerTrials) {
  SensitivitySamples samples;
  samples.count = 4;
  samples.fill = [](size_t i, Tensor& input) {
    const Tensor s = sample(i);
    std::copy(s.data<float>(), s.data<float>() + s.elements(), input.mutable_data<float>());
  };
  samples.calibration_count = 4;
  samples.fill_calibration = samples.fill;
  SensitivityOptions options;
  options.backend = "ref";
  options.keep_float = false;
  size_t builds = 0;
  options.model_trials = {{"same", [&] { ++builds; return models().int8; }},
                          {"per-tensor", [&] {
                             ++builds;
                             quant::QuantizeOptions per_tensor;
                             per_tensor.per_channel_weights = false;
                             return quantize_model(models().fp32, per_tensor,
                                                   CalibrationSource{samples.calibration_count, samples.fill});
                           }}};
  size_t progress_calls = 0;
  const SensitivityReport report = analyze_sensitivity(models().fp32, models().int8, samples, options,
                                                       [&](size_t, size_t total) {
                                                         ++progress_calls;
                                                         EXPECT_EQ(total, 3u);
                                                       });
  EXPECT_TRUE(report.trials.empty());
  EXPECT_TRUE(report.ranking.empty());
  EXPECT_EQ(builds, 2u);
  EXPECT_EQ(progress_calls, 3u);
  ASSERT_EQ(report.model_trials.size(), 2u);
  EXPECT_EQ(report.model_trials[0].fix, "same");
  EXPECT_TRUE(report.model_trials[0].layer.empty());
  EXPECT_DOUBLE_EQ(report.model_trials[0].recovered_sqnr_db, 0.0);
  EXPECT_FALSE(report.model_trials[0].top1.has_value());  // unlabelled samples
  EXPECT_EQ(report.model_trials[1].fix, "per-tensor");
  EXPECT_NE(report.model_trials[1].output_sqnr_db, report.base_sqnr_db);
}

}  // namespace
}  // namespace octet
