// Per-tensor PTQ on the bundled ResNet and on its channel-scaled twin, full Fashion-MNIST test
// set (labelled "slow"). The twin computes the same fp32 function with the channel ranges of each
// block's conv1 200x apart (and conv2's input channels unbalanced inversely): per-tensor weights
// must lose at least 10 top-1 points there, and Cross-Layer Equalization must bring them back to
// within 1.5 points of fp32. Bias correction must not cost accuracy and must lower the layers'
// mean output shift.
//
// Why 200x and not 100x: at exactly 100x per-tensor int8 still keeps one level (127/100) for the
// smallest channel and this ResNet loses only 2 points (93.37% -> 91.38%, measured); by 150x the
// smallest channels round to zero and accuracy collapses (150x: -22, 200x: -56 points on the
// first 2000 test images).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <thread>

#include "engine/bias_correction.hpp"
#include "engine/data/dataset_spec.hpp"
#include "engine/quantize.hpp"
#include "engine/session.hpp"
#include "graph/onnx/onnx_import.hpp"
#include "tests/quant/channel_scaled_model.hpp"

using namespace octet;

namespace {

const std::string kModel = std::string(OCTET_SOURCE_DIR) + "/models/fashion_mnist_resnet.onnx";
constexpr size_t kCalibrationSamples = 500;  // the CLI's default --calib-count

const data::Dataset& train_set() {
  static const data::Dataset set = data::load_dataset("fashion-mnist:train");
  return set;
}

const data::Dataset& test_set() {
  static const data::Dataset set = data::load_dataset("fashion-mnist:test");
  return set;
}

CalibrationSource samples_of(const data::Dataset& set, size_t count) {
  return {std::min(count, set.size()),
          [&set](size_t i, Tensor& input) { set.sample(i, input.mutable_data<float>()); }};
}

// Top-1 on the whole test set: two sessions sharing one compiled plan, each taking every other
// image. int8 nodes run on the SIMD backend (bit-identical to the reference), fp32 ones fall back.
double top1(const Model& model) {
  SessionOptions options;
  options.backend = "cpu";
  const auto plan = compile(model, options);
  const data::Dataset& set = test_set();
  size_t correct[2] = {0, 0};
  auto worker = [&](size_t first) {
    Session session(plan);
    Tensor input(DType::f32, session.input_info(0).shape);
    for (size_t i = first; i < set.size(); i += 2) {
      set.sample(i, input.mutable_data<float>());
      const Tensor logits = session.run({input})[0];
      const float* y = logits.data<float>();
      const int64_t best = std::max_element(y, y + logits.elements()) - y;
      correct[first] += best == set.label(i);
    }
  };
  std::thread other(worker, 1);
  worker(0);
  other.join();
  return static_cast<double>(correct[0] + correct[1]) / static_cast<double>(set.size());
}

Model quantized(const Model& fp32, bool cle, bool bias_correction) {
  quant::QuantizeOptions options;
  options.target = "npu";
  options.per_channel_weights = false;
  options.cross_layer_equalization = cle;
  options.bias_correction = bias_correction;
  return quantize_model(fp32, options, samples_of(train_set(), kCalibrationSamples));
}

double average_shift(const std::vector<LayerBiasError>& layers) {
  double sum = 0.0;
  for (const LayerBiasError& layer : layers) sum += layer.mean_abs();
  return sum / static_cast<double>(layers.size());
}

TEST(PtqBundledModelSlow, ChannelScaledResNetLosesTenPointsPerTensorAndCleRecoversThem) {
  const Model original = Model::from_graph(import_onnx_file(kModel));
  const Model scaled = Model::from_graph(test::channel_scaled_model(original.graph(), 200.0), false);
  const double fp32 = top1(scaled);
  const double per_tensor = top1(quantized(scaled, false, false));
  const double with_cle = top1(quantized(scaled, true, false));
  const double with_cle_bc = top1(quantized(scaled, true, true));
  std::printf("channel-scaled ResNet (200x), full test set: fp32 %.2f%%, per-tensor %.2f%%, per-tensor + CLE %.2f%%, "
              "per-tensor + CLE + bias correction %.2f%%\n",
              100 * fp32, 100 * per_tensor, 100 * with_cle, 100 * with_cle_bc);
  EXPECT_GE(fp32, 0.91);
  EXPECT_GE(fp32 - per_tensor, 0.10) << "the channel spread must break per-tensor weights";
  EXPECT_LE(fp32 - with_cle, 0.015) << "CLE must undo it";
  EXPECT_LE(fp32 - with_cle_bc, 0.015);
}

TEST(PtqBundledModelSlow, BiasCorrectionKeepsPerTensorAccuracyAndLowersTheMeanShift) {
  const Model fp32 = Model::from_graph(import_onnx_file(kModel));
  const Model per_tensor = quantized(fp32, false, false);
  const Model corrected = quantized(fp32, false, true);
  const double plain_top1 = top1(per_tensor), corrected_top1 = top1(corrected);
  // Measured on test images, not on the calibration images the correction was computed from.
  const CalibrationSource held_out = samples_of(test_set(), 1000);
  const double shift_before = average_shift(measure_bias_error(fp32, per_tensor, held_out));
  const double shift_after = average_shift(measure_bias_error(fp32, corrected, held_out));
  std::printf("bundled ResNet per-tensor, full test set: top-1 %.2f%% -> %.2f%% with bias correction; mean |output "
              "shift| per channel %.4g -> %.4g (1000 test images)\n",
              100 * plain_top1, 100 * corrected_top1, shift_before, shift_after);
  // Per-tensor weights on this model have almost nothing to correct (93.35% against fp32's
  // 93.37%): the correction may move a few images either way (measured: 93.35% -> 93.34%, one
  // image). 0.1 point (10 images) is well inside the +-0.26-point standard error of a
  // 10,000-image estimate at 93%; a real regression would show more.
  EXPECT_GE(corrected_top1, plain_top1 - 0.001);
  EXPECT_LT(shift_after, 0.5 * shift_before);
}

// Issue 5's acceptance on the bundled ResNet: per-tensor weights with CLE and bias correction
// within 1.0 top-1 point of fp32 (tests/tools/test_bundled_mobilenetv2.cpp does MobileNetV2).
TEST(PtqBundledModelSlow, PerTensorWithCleAndBiasCorrectionIsWithinOnePointOfFp32) {
  const Model fp32 = Model::from_graph(import_onnx_file(kModel));
  const double reference = top1(fp32), corrected = top1(quantized(fp32, true, true));
  std::printf("bundled ResNet, full test set: fp32 %.2f%%, per-tensor + CLE + bias correction %.2f%%\n",
              100 * reference, 100 * corrected);
  EXPECT_LE(reference - corrected, 0.01);
}

}  // namespace
