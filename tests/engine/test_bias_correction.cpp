// Empirical bias correction: the per-layer arithmetic (mean pre-activation outputs, the int32
// bias update), the correction on a model built to have a biased quantization error, and the
// options quantize_model records.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "engine/bias_correction.hpp"
#include "engine/quantize.hpp"
#include "engine/session.hpp"
#include "quant/bias_correction.hpp"
#include "tests/graph/graph_builder.hpp"
#include "tests/graph/run_graph.hpp"

using namespace octet;

namespace {

std::vector<Tensor> random_inputs(const Shape& shape, size_t count, uint32_t seed, float low = 0.0f) {
  std::mt19937 rng(seed);
  std::vector<Tensor> inputs;
  for (size_t i = 0; i < count; ++i) inputs.push_back(test::random_tensor(shape, rng, low, 1.0f));
  return inputs;
}

CalibrationSource source_of(const std::vector<Tensor>& samples) {
  return {samples.size(), [&samples](size_t i, Tensor& input) {
            std::copy(samples[i].data<float>(), samples[i].data<float>() + samples[i].elements(),
                      input.mutable_data<float>());
          }};
}

Tensor mean_of(const std::vector<Tensor>& tensors) {
  Tensor mean(DType::f32, tensors[0].shape());
  for (const Tensor& t : tensors)
    for (int64_t i = 0; i < t.elements(); ++i) mean.mutable_data<float>()[i] += t.data<float>()[i];
  for (int64_t i = 0; i < mean.elements(); ++i) mean.mutable_data<float>()[i] /= static_cast<float>(tensors.size());
  return mean;
}

// Per channel (axis 1), the mean over everything else.
std::vector<double> channel_means(const std::vector<Tensor>& outputs) {
  const Shape& shape = outputs[0].shape();
  const int64_t channels = shape[1], inner = shape_elements(shape) / (shape[0] * channels);
  std::vector<double> mean(static_cast<size_t>(channels), 0.0);
  for (const Tensor& t : outputs)
    for (int64_t n = 0; n < shape[0]; ++n)
      for (int64_t c = 0; c < channels; ++c)
        for (int64_t i = 0; i < inner; ++i) mean[static_cast<size_t>(c)] += t.data<float>()[(n * channels + c) * inner + i];
  for (double& m : mean) m /= static_cast<double>(outputs.size() * static_cast<size_t>(shape[0] * inner));
  return mean;
}

TEST(MeanPreactivation, IsTheMeanOfTheLayersOutputsForConvAndGemm) {
  // A strided, padded, grouped conv; a Gemm with transB = 0, alpha, beta and a [1, N] C.
  test::GraphBuilder b("layers", 2);
  b.input("x", {1, 4, 7, 7});
  b.conv("conv", "x", "y", 4, 6, 3, true,
         {{"pads", std::vector<int64_t>{1, 0, 2, 1}}, {"strides", std::vector<int64_t>{2, 2}}}, 2);
  b.output("y");
  Graph conv = b.build();
  test::GraphBuilder g("gemm", 3);
  g.input("a", {3, 5});
  g.random_constant("w", {5, 4});
  g.random_constant("c", {1, 4});
  g.node("Gemm", "gemm", {"a", "w", "c"}, {"y"}, {{"alpha", 0.5f}, {"beta", 2.0f}});
  g.output("y");
  Graph gemm = g.build();
  for (Graph* graph : {&conv, &gemm}) {
    Model model = Model::from_graph(*graph);
    Session session(model);
    const Shape shape = model.graph().value_info(model.graph().inputs[0]).shape;
    const std::vector<Tensor> inputs = random_inputs(shape, 20, 4, -1.0f);
    std::vector<Tensor> outputs;
    for (const Tensor& input : inputs) outputs.push_back(test::run_session(session, {input})[0]);
    const std::vector<double> expected = channel_means(outputs);
    const std::vector<double> mean = quant::mean_preactivation(model.graph(), model.graph().nodes[0], mean_of(inputs));
    ASSERT_EQ(mean.size(), expected.size());
    for (size_t c = 0; c < mean.size(); ++c) EXPECT_NEAR(mean[c], expected[c], 1e-5) << model.graph().name << " " << c;
  }
}

TEST(MeanPreactivation, OfAnInt8LayerIsTheMeanOfItsDequantizedOutputs) {
  test::GraphBuilder b("int8", 5);
  b.input("x", {1, 3, 6, 6});
  b.conv("conv", "x", "y", 3, 4, 3, true, {{"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  b.output("y");
  Model fp32 = Model::from_graph(b.build());
  const std::vector<Tensor> inputs = random_inputs({1, 3, 6, 6}, 30, 6);
  quant::QuantizeOptions options;
  options.per_channel_weights = false;
  Model int8 = quantize_model(fp32, options, source_of(inputs));
  const Graph& graph = int8.graph();
  const Node* qconv = test::find_node(graph, "conv");
  ASSERT_NE(qconv, nullptr);
  ASSERT_EQ(qconv->op, "QConv");
  // The int8 input is x quantized: its dequantized mean is the mean of fake-quantized inputs.
  const QuantParams& x = graph.quant.at(qconv->inputs[0]);
  std::vector<Tensor> dequantized;
  for (const Tensor& input : inputs) {
    Tensor d = input.clone();
    for (int64_t i = 0; i < d.elements(); ++i) {
      const float q = std::clamp(std::nearbyint(d.data<float>()[i] / x.scales[0]) + x.zero_points[0], -128.0f, 127.0f);
      d.mutable_data<float>()[i] = x.scales[0] * (q - x.zero_points[0]);
    }
    dequantized.push_back(std::move(d));
  }
  Session session(int8);
  std::vector<Tensor> outputs;
  for (const Tensor& input : inputs) outputs.push_back(test::run_session(session, {input})[0]);
  const std::vector<double> expected = channel_means(outputs);
  const std::vector<double> mean = quant::mean_preactivation(graph, *qconv, mean_of(dequantized));
  // The kernel rounds each output to the output scale: the means agree to a fraction of it.
  const float output_scale = graph.quant.at(qconv->outputs[0]).scales[0];
  for (size_t c = 0; c < mean.size(); ++c) EXPECT_NEAR(mean[c], expected[c], 0.1 * output_scale) << "channel " << c;
}

TEST(MeanPreactivation, RejectsOtherOpsAndMismatchedInputs) {
  test::GraphBuilder b("bad", 1);
  b.input("x", {1, 2, 4, 4});
  b.conv("conv", "x", "c", 2, 3, 3, false);
  b.node("Relu", "relu", {"c"}, {"y"});
  b.output("y");
  Graph graph = b.build();
  graph.infer_shapes();
  OCTET_EXPECT_CONTAINS(test::error_message([&] {
    quant::mean_preactivation(graph, graph.nodes[1], Tensor(DType::f32, {1, 3, 2, 2}));
  }), "Relu 'relu': bias correction applies to Conv, Gemm, QConv and QGemm only");
  OCTET_EXPECT_CONTAINS(test::error_message([&] {
    quant::mean_preactivation(graph, graph.nodes[0], Tensor(DType::f32, {1, 5, 4, 4}));
  }), "Conv 'conv': mean input has 5 channels, the weights read 2");
  OCTET_EXPECT_CONTAINS(test::error_message([&] {
    quant::subtract_from_int32_bias(graph, graph.nodes[0], {0.0, 0.0, 0.0});
  }), "only QConv and QGemm have an int32 bias");
}

// conv "biased" (8 -> 2 channels, 3x3): channel 0 spans [-1, 1], every weight of channel 1 is
// +0.003, 0.38 of the per-tensor step 1/127, so it rounds to 0 and channel 1 loses
// 0.003 * 72 * mean(x) ~ 0.1 on positive inputs: a pure bias. Then conv -> GAP -> Gemm, so the
// correction of the first layer shows up in the later ones.
Model biased_model() {
  test::GraphBuilder b("biased", 8);
  b.input("x", {1, 8, 6, 6});
  b.conv("biased", "x", "h", 8, 2, 3, true, {{"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  b.conv("mix", "h", "m", 2, 3, 1, true);
  b.node("GlobalAveragePool", "gap", {"m"}, {"p"});
  b.node("Flatten", "flat", {"p"}, {"f"});
  b.random_constant("fc.w", {2, 3});
  b.node("Gemm", "fc", {"f", "fc.w"}, {"y"}, {{"transB", int64_t{1}}});
  b.output("y");
  Graph graph = b.build();
  float* w = graph.initializers.at("biased.w").mutable_data<float>();
  w[0] = 1.0f;  // channel 0's range is [-1, 1]
  std::fill(w + 72, w + 144, 0.003f);
  return Model::from_graph(std::move(graph));
}

TEST(BiasCorrection, RemovesADeliberateBiasAndLowersEveryLayersError) {
  const Model fp32 = biased_model();
  const std::vector<Tensor> calibration = random_inputs({1, 8, 6, 6}, 64, 10);
  const std::vector<Tensor> held_out = random_inputs({1, 8, 6, 6}, 64, 11);
  quant::QuantizeOptions options;
  options.per_channel_weights = false;
  const Model int8 = quantize_model(fp32, options, source_of(calibration));
  size_t progress_calls = 0, last_total = 0;
  BiasCorrectionReport report;
  const Model corrected = correct_bias(
      fp32, int8, source_of(calibration), [&](size_t, size_t total) {
        ++progress_calls;
        last_total = total;
      }, &report);
  EXPECT_EQ(progress_calls, 64u * 4u);  // one fp32 pass, one int8 pass per layer
  EXPECT_EQ(last_total, 64u * 4u);
  ASSERT_EQ(report.before.size(), 3u);
  EXPECT_EQ(report.before[0].layer, "QConv 'biased'");
  EXPECT_LT(report.before[0].mean_error[1], -0.05) << "channel 1 lost its small positive weights";

  const std::vector<LayerBiasError> before = measure_bias_error(fp32, int8, source_of(held_out));
  const std::vector<LayerBiasError> after = measure_bias_error(fp32, corrected, source_of(held_out));
  ASSERT_EQ(before.size(), 3u);
  ASSERT_EQ(after.size(), 3u);
  EXPECT_LT(std::fabs(after[0].mean_error[1]), 0.1 * std::fabs(before[0].mean_error[1]));
  for (size_t layer = 0; layer < 3; ++layer)
    EXPECT_LT(after[layer].mean_abs(), before[layer].mean_abs()) << before[layer].layer;
  EXPECT_EQ(corrected.graph().metadata.at("octet.quantization.bias_correction"), "empirical");
  EXPECT_EQ(corrected.graph().metadata.at("octet.quantization.bias_correction_samples"), "64");
}

TEST(BiasCorrection, LeavesEachLayerWithinHalfAnAccumulatorStepOnItsOwnSamples) {
  // Layers are corrected in order, so a layer's input does not change after its correction: on
  // the samples used, what is left is the rounding of the correction to whole int32 units.
  const Model fp32 = biased_model();
  const std::vector<Tensor> samples = random_inputs({1, 8, 6, 6}, 32, 12);
  quant::QuantizeOptions options;
  options.per_channel_weights = false;
  const Model corrected = correct_bias(fp32, quantize_model(fp32, options, source_of(samples)), source_of(samples));
  const std::vector<LayerBiasError> left = measure_bias_error(fp32, corrected, source_of(samples));
  for (const LayerBiasError& layer : left) {
    const Node* node = nullptr;
    for (const Node& n : corrected.graph().nodes)
      if (n.label() == layer.layer) node = &n;
    ASSERT_NE(node, nullptr) << layer.layer;
    const double step = static_cast<double>(corrected.graph().quant.at(node->inputs[0]).scales[0]) *
                        corrected.graph().quant.at(node->inputs[1]).scales[0];
    for (size_t c = 0; c < layer.mean_error.size(); ++c)
      EXPECT_LE(std::fabs(layer.mean_error[c]), 0.5 * step * (1 + 1e-4) + 1e-7) << layer.layer << " channel " << c;
  }
}

TEST(BiasCorrection, SubtractsWholeAccumulatorUnitsFromANewBiasTensor) {
  const Model fp32 = biased_model();
  const std::vector<Tensor> samples = random_inputs({1, 8, 6, 6}, 8, 13);
  Model int8 = quantize_model(fp32, {}, source_of(samples));
  Graph graph = int8.graph();
  Node& qconv = *std::find_if(graph.nodes.begin(), graph.nodes.end(), [](const Node& n) { return n.op == "QConv"; });
  const std::string old_name = qconv.inputs[2];
  const std::vector<int32_t> old_bias(graph.initializer(old_name)->data<int32_t>(),
                                      graph.initializer(old_name)->data<int32_t>() + 2);
  const double s_x = graph.quant.at(qconv.inputs[0]).scales[0];
  const std::vector<float>& s_w = graph.quant.at(qconv.inputs[1]).scales;  // per channel (default)
  EXPECT_EQ(quant::subtract_from_int32_bias(graph, qconv, {3.0 * s_x * s_w[0], -7.2 * s_x * s_w[1]}), 0);
  EXPECT_NE(qconv.inputs[2], old_name);
  EXPECT_EQ(graph.initializer(qconv.inputs[2])->data<int32_t>()[0], old_bias[0] - 3);
  EXPECT_EQ(graph.initializer(qconv.inputs[2])->data<int32_t>()[1], old_bias[1] + 7);
  EXPECT_EQ(graph.initializer(old_name), nullptr) << "the old bias, now unused, is dropped";
  EXPECT_EQ(quant::subtract_from_int32_bias(graph, qconv, {1e30, 0.0}), 1) << "saturation is counted";
  EXPECT_EQ(graph.initializer(qconv.inputs[2])->data<int32_t>()[0], std::numeric_limits<int32_t>::min());
  OCTET_EXPECT_CONTAINS(test::error_message([&] { quant::subtract_from_int32_bias(graph, qconv, {1.0}); }),
                        "1 corrections for 2 output channels");
  OCTET_EXPECT_CONTAINS(test::error_message([&] {
    quant::subtract_from_int32_bias(graph, qconv, {std::numeric_limits<double>::quiet_NaN(), 0.0});
  }), "correction of channel 0 is not finite");
}

TEST(BiasCorrection, NeedsTheGraphThatWasQuantizedAndSomeSamples) {
  const Model fp32 = biased_model();
  const std::vector<Tensor> samples = random_inputs({1, 8, 6, 6}, 4, 14);
  const Model int8 = quantize_model(fp32, {}, source_of(samples));
  test::GraphBuilder b("other", 1);
  b.input("x", {1, 8, 6, 6});
  b.conv("other", "x", "y", 8, 2, 1, false);
  b.output("y");
  const Model other = Model::from_graph(b.build());
  OCTET_EXPECT_CONTAINS(test::error_message([&] { correct_bias(other, int8, source_of(samples)); }),
                        "QConv 'biased': the fp32 model has no Conv writing 'h'");
  OCTET_EXPECT_CONTAINS(test::error_message([&] { correct_bias(fp32, int8, {}); }),
                        "bias correction needs samples");
}

TEST(QuantizeModelPtq, RecordsTargetCleAndBiasCorrectionInTheMetadata) {
  const Model fp32 = Model::from_graph(test::residual_test_graph(7, 2, 4, 8, 3));
  const std::vector<Tensor> samples = random_inputs({1, 2, 8, 8}, 16, 15);
  quant::QuantizeOptions options;
  options.target = "npu";
  options.per_channel_weights = false;
  options.cross_layer_equalization = true;
  options.bias_correction = true;
  std::vector<std::string> stages;
  QuantizationSummary summary;
  const Model int8 = quantize_model(
      fp32, options, source_of(samples),
      [&](const std::string& stage, size_t, size_t) {
        if (stages.empty() || stages.back() != stage) stages.push_back(stage);
      },
      &summary);
  EXPECT_EQ(stages, (std::vector<std::string>{"calibrate", "bias correction"}));
  const auto& metadata = int8.graph().metadata;
  EXPECT_EQ(metadata.at("octet.quantization.target"), "npu");
  EXPECT_EQ(metadata.at("octet.quantization.weights"), "per-tensor");
  EXPECT_EQ(metadata.at("octet.quantization.cross_layer_equalization"), "on");
  EXPECT_EQ(metadata.at("octet.quantization.cross_layer_equalization_pairs"), "1");
  EXPECT_EQ(metadata.at("octet.quantization.bias_correction"), "empirical");
  EXPECT_EQ(summary.equalization.equalized.size(), 1u);
  EXPECT_EQ(summary.bias_correction.before.size(), 4u);  // three QConv and the QGemm
  for (const auto& entry : int8.graph().quant)
    if (int8.graph().is_initializer(entry.first) && int8.graph().initializer(entry.first)->dtype() == DType::i8) {
      EXPECT_EQ(entry.second.scales.size(), 1u) << entry.first << " is per-tensor";
    }

  const Model plain = quantize_model(fp32, {}, source_of(samples));
  EXPECT_EQ(plain.graph().metadata.at("octet.quantization.target"), "cpu");
  EXPECT_EQ(plain.graph().metadata.at("octet.quantization.cross_layer_equalization"), "off");
  EXPECT_EQ(plain.graph().metadata.at("octet.quantization.bias_correction"), "off");
}

TEST(QuantizeModelPtq, RefusesContradictoryOptions) {
  const Model fp32 = Model::from_graph(test::residual_test_graph(7, 2, 4, 8, 3));
  const std::vector<Tensor> samples = random_inputs({1, 2, 8, 8}, 4, 16);
  quant::QuantizeOptions npu;
  npu.target = "npu";
  OCTET_EXPECT_CONTAINS(test::error_message([&] { quantize_model(fp32, npu, source_of(samples)); }),
                        "target npu takes per-tensor weights only");
  quant::QuantizeOptions unknown;
  unknown.target = "gpu";
  OCTET_EXPECT_CONTAINS(test::error_message([&] { quantize_model(fp32, unknown, source_of(samples)); }),
                        "unknown quantization target 'gpu'");
  quant::QuantizeOptions dynamic;
  dynamic.mode = quant::QuantizationMode::dynamic_int8;
  dynamic.bias_correction = true;
  OCTET_EXPECT_CONTAINS(test::error_message([&] { quantize_model(fp32, dynamic, {}); }),
                        "bias correction needs static quantization");
  // CLE alone works in dynamic mode too (it only changes the fp32 weights).
  dynamic.bias_correction = false;
  dynamic.cross_layer_equalization = true;
  const Model equalized = quantize_model(fp32, dynamic, {});
  EXPECT_EQ(equalized.graph().metadata.at("octet.quantization.cross_layer_equalization"), "on");
}

}  // namespace
