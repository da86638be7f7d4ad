// The profilers on the bundled Fashion-MNIST ResNet, quantized here (100 training images):
// the propagated SQNR of the logits against the models run by the test itself, and a layer
// given a deliberately bad output range in the .oct found by the local mode.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>

#include "engine/data/dataset_spec.hpp"
#include "engine/profile.hpp"
#include "engine/quantize.hpp"
#include "engine/sensitivity.hpp"
#include "engine/session.hpp"
#include "graph/model_file.hpp"
#include "graph/onnx/onnx_import.hpp"

namespace fs = std::filesystem;

namespace octet {
namespace {

const std::string kModel = std::string(OCTET_SOURCE_DIR) + "/models/fashion_mnist_resnet.onnx";
const std::string kBrokenConv = "/body/body.2/conv2/Conv";  // its output feeds a residual Add
const std::string kClippedWeightsConv = "/body/body.3/conv1/Conv";

struct Bundled {
  Model fp32, int8;
  data::Dataset test;
};

const Bundled& bundled() {
  static const Bundled models = [] {
    Model fp32 = Model::from_graph(import_onnx_file(kModel));
    const data::Dataset train = data::load_dataset("fashion-mnist:train");
    CalibrationSource calibration{
        100, [&train](size_t i, Tensor& input) { train.sample(i, input.mutable_data<float>()); }};
    Model int8 = quantize_model(fp32, quant::QuantizeOptions{}, calibration);
    data::Dataset test = data::load_dataset("fashion-mnist:test");
    test.limit(64);
    return Bundled{fp32, int8, std::move(test)};
  }();
  return models;
}

Tensor input_of(const data::Dataset& dataset, size_t i) {
  Tensor input(DType::f32, {1, 1, 28, 28});
  dataset.sample(i, input.mutable_data<float>());
  return input;
}

ProfileReport profile(const Model& int8, ProfileOptions options, size_t samples) {
  const Bundled& b = bundled();
  ModelProfiler profiler(b.fp32, int8, std::move(options));
  for (size_t i = 0; i < samples; ++i) profiler.run(input_of(b.test, i), b.test.label(i));
  return profiler.report();
}

Model through_oct_file(const Graph& graph);

// The int8 model with the output qparams of `node` given a scale 50 times too small (so its
// range covers 2% of the values), written to a .oct and loaded back as a user's edit would be.
Model with_tiny_output_scale(const Model& int8, const std::string& node) {
  Graph graph = int8.graph();
  std::string value;
  for (const auto& n : graph.nodes)
    if (n.name == node) value = n.outputs[0];
  EXPECT_FALSE(value.empty()) << node;
  graph.quant.at(value).scales[0] /= 50.0f;
  return through_oct_file(graph);
}

// Reloads an edited graph through a .oct file, as a user's edit would be.
Model through_oct_file(const Graph& graph) {
  const fs::path path =
      fs::temp_directory_path() / ("octet_profile_edit_" + std::to_string(getpid()) + ".oct");
  save_model_file(graph, path.string());
  Model model = Model::from_graph(load_model_file(path.string()), false);
  fs::remove(path);  // the mapping stays valid: the file is unlinked, not truncated
  return model;
}

// The int8 model with the weights of `node` quantized with scales 20 times too small: most
// weights clip at ±127. The int32 bias follows the new weight scale, so only the clipping is wrong.
Model with_clipped_weights(const Model& int8, const Model& fp32, const std::string& node) {
  Graph graph = int8.graph();
  const Node* q = nullptr;
  for (const auto& n : graph.nodes)
    if (n.name == node) q = &n;
  const Node* f = nullptr;
  for (const auto& n : fp32.graph().nodes)
    if (n.name == node) f = &n;
  EXPECT_TRUE(q && f) << node;
  const Tensor& weights = *fp32.graph().initializer(f->inputs[1]);
  QuantParams& scales = graph.quant.at(q->inputs[1]);
  Tensor codes(DType::i8, weights.shape());
  Tensor bias = graph.initializer(q->inputs[2])->clone();
  const int64_t channels = weights.shape()[0], per_channel = weights.elements() / channels;
  for (int64_t c = 0; c < channels; ++c) {
    scales.scales[static_cast<size_t>(c)] /= 20.0f;
    bias.mutable_data<int32_t>()[c] *= 20;
    for (int64_t i = 0; i < per_channel; ++i) {
      const float code = std::nearbyint(weights.data<float>()[c * per_channel + i] /
                                        scales.scales[static_cast<size_t>(c)]);
      codes.mutable_data<int8_t>()[c * per_channel + i] =
          static_cast<int8_t>(std::clamp(code, -127.0f, 127.0f));
    }
  }
  graph.initializers[q->inputs[1]] = std::move(codes);
  graph.initializers[q->inputs[2]] = std::move(bias);
  return through_oct_file(graph);
}

SensitivitySamples sensitivity_samples(size_t count) {
  const Bundled& b = bundled();
  SensitivitySamples samples;
  samples.count = count;
  samples.fill = [&b](size_t i, Tensor& input) { b.test.sample(i, input.mutable_data<float>()); };
  samples.label = [&b](size_t i) { return b.test.label(i); };
  samples.calibration_count = count;
  samples.fill_calibration = samples.fill;
  return samples;
}

std::string lowest_local_sqnr_layer(const ProfileReport& report, double* sqnr_out = nullptr) {
  std::string lowest;
  double lowest_sqnr = std::numeric_limits<double>::infinity();
  for (const LayerReport& layer : report.layers) {
    if (!layer.backends[0].local) continue;
    const double sqnr = layer.backends[0].local->sqnr_db();
    if (sqnr < lowest_sqnr) lowest_sqnr = sqnr, lowest = layer.node;
  }
  if (sqnr_out) *sqnr_out = lowest_sqnr;
  return lowest;
}

TEST(ProfileBundledModel, PropagatedSqnrOfTheLogitsAgreesWithTheModelsRunHere) {
  const Bundled& b = bundled();
  const size_t samples = 48;
  ProfileOptions options;
  options.backends = {"ref", "cpu"};
  options.local = false;
  const ProfileReport report = profile(b.int8, options, samples);

  Session fp32(b.fp32), int8(b.int8, SessionOptions{"cpu", 1, {}, false});
  double signal = 0.0, noise = 0.0;
  size_t correct = 0;
  for (size_t i = 0; i < samples; ++i) {
    const Tensor x = input_of(b.test, i);
    const Tensor r = fp32.run({x})[0], t = int8.run({x})[0];
    for (int64_t j = 0; j < r.elements(); ++j) {
      const double e = static_cast<double>(t.data<float>()[j]) - r.data<float>()[j];
      signal += static_cast<double>(r.data<float>()[j]) * r.data<float>()[j];
      noise += e * e;
    }
    const float* logits = t.data<float>();
    correct += std::max_element(logits, logits + 10) - logits == b.test.label(i);
  }
  const double expected = 10.0 * std::log10(signal / noise);
  for (const RunSummary& backend : report.backends) {
    ASSERT_TRUE(backend.output_error) << backend.name;
    EXPECT_NEAR(backend.output_error->sqnr_db(), expected, 1e-9) << backend.name;
    EXPECT_EQ(backend.correct_top1, correct) << backend.name;
  }
  // A healthy int8 ResNet: the logits keep most of their signal.
  EXPECT_GT(expected, 15.0);
  // The last layer's own row says the same as the summary.
  const LayerReport* dequantize = report.find_layer("logits.dequantize");
  ASSERT_NE(dequantize, nullptr);
  EXPECT_EQ(dequantize->backends[1].propagated->sqnr_db(),
            report.backends[1].output_error->sqnr_db());
}

TEST(ProfileBundledModel, ALayerWithATinyOutputScaleHasTheLowestLocalSqnr) {
  const Bundled& b = bundled();
  const Model broken = with_tiny_output_scale(b.int8, kBrokenConv);
  ProfileOptions options;
  options.backends = {"cpu"};
  options.propagated = false;
  const ProfileReport report = profile(broken, options, 16);
  double lowest_sqnr = 0.0;
  const std::string lowest = lowest_local_sqnr_layer(report, &lowest_sqnr);
  EXPECT_EQ(lowest, kBrokenConv) << "lowest local SQNR " << lowest_sqnr << " dB";
  EXPECT_LT(lowest_sqnr, 3.0);
  // And the histogram pass says why: most of its fp32 output falls outside the range.
  const LayerReport* layer = report.find_layer(kBrokenConv);
  ASSERT_NE(layer, nullptr);
  bool found = false;
  for (const TensorReport& tensor : report.tensors) {
    if (tensor.fp32.value != layer->reference) continue;
    found = true;
    EXPECT_GT(tensor.fp32.clipped_fraction(), 0.3);
  }
  EXPECT_TRUE(found) << layer->reference;
}

// Item 4 of the profiler work: the deliberately broken layer comes first in the sensitivity
// ranking. Keeping it in fp32 cannot repair the range its int8 reader still uses; giving its
// output the observer's range does.
TEST(ProfileBundledModel, TheLayerWithATinyOutputScaleRanksFirstInSensitivity) {
  const Bundled& b = bundled();
  const Model broken = with_tiny_output_scale(b.int8, kBrokenConv);
  SensitivityOptions options;
  options.backend = "cpu";
  options.observers = {"minmax"};
  const SensitivityReport report =
      analyze_sensitivity(b.fp32, broken, sensitivity_samples(32), options);
  ASSERT_FALSE(report.ranking.empty());
  EXPECT_EQ(report.ranking[0].layer, kBrokenConv);
  EXPECT_EQ(report.ranking[0].best.fix, "observer:minmax");
  EXPECT_GT(report.ranking[0].best.recovered_sqnr_db, 10.0);
  ASSERT_TRUE(report.ranking[0].best.recovered_top1.has_value());
  EXPECT_GE(*report.ranking[0].best.recovered_top1, 0.0);
}

TEST(ProfileBundledModel, ALayerWithClippedWeightsIsFoundLocallyAndRecoveredInFp32) {
  const Bundled& b = bundled();
  const Model broken = with_clipped_weights(b.int8, b.fp32, kClippedWeightsConv);
  ProfileOptions options;
  options.backends = {"cpu"};
  options.propagated = false;
  EXPECT_EQ(lowest_local_sqnr_layer(profile(broken, options, 8)), kClippedWeightsConv);

  SensitivityOptions sensitivity;
  sensitivity.backend = "cpu";  // keep-float trials only
  const SensitivityReport report =
      analyze_sensitivity(b.fp32, broken, sensitivity_samples(32), sensitivity);
  ASSERT_FALSE(report.ranking.empty());
  EXPECT_EQ(report.ranking[0].layer, kClippedWeightsConv);
  EXPECT_EQ(report.ranking[0].best.fix, "fp32");
  EXPECT_GT(report.ranking[0].best.recovered_sqnr_db, 10.0);
}

}  // namespace
}  // namespace octet
