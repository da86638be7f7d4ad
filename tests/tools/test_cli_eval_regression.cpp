// `octet eval --task regression` through the real binary: metrics of tiny pointwise-Conv models
// checked against values computed here from the same arrays, the noisy Fashion-MNIST spec
// against NumPy, thread-count independence, and the one-line errors.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/data/npy.hpp"
#include "tests/tools/cli_expect.hpp"
#include "tests/tools/cli_runner.hpp"
#include "tests/tools/onnx_model_writer.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using octet::test::CliResult;
using octet::test::expect_one_line_error;
using octet::test::run_octet;

namespace {

constexpr int64_t kSide = 4;

// input [1,1,side,side] → Conv 1×1 with one output channel per weight → [1,C,side,side]:
// channel c is weights[c] · x + biases[c].
onnx::ModelProto pointwise_conv_model(int64_t side, const std::vector<float>& weights,
                                      const std::vector<float>& biases) {
  onnx::ModelProto model;
  model.set_ir_version(7);
  model.add_opset_import()->set_version(13);
  auto* graph = model.mutable_graph();
  graph->set_name("pointwise");
  const auto channels = static_cast<int64_t>(weights.size());
  octet::test::add_tensor_value(graph->add_input(), "x", {1, 1, side, side});
  octet::test::add_tensor_value(graph->add_output(), "y", {1, channels, side, side});
  octet::test::add_float_initializer(*graph, "w", {channels, 1, 1, 1}, weights);
  octet::test::add_float_initializer(*graph, "b", {channels}, biases);
  auto* conv = graph->add_node();
  conv->set_op_type("Conv");
  conv->set_name("conv");
  conv->add_input("x");
  conv->add_input("w");
  conv->add_input("b");
  conv->add_output("y");
  return model;
}

// The metrics spelled out on whole arrays: means over every element, abs_rel over reference
// elements above 0.05, PSNR with peak 1.
struct Expected {
  double mae = 0, abs_rel = 0, mse = 0, psnr = 0;
  size_t rel_elements = 0;
};

Expected expected_metrics(const std::vector<float>& output, const std::vector<float>& reference) {
  Expected e;
  double rel = 0;
  for (size_t k = 0; k < output.size(); ++k) {
    const double diff =
        std::fabs(static_cast<double>(output[k]) - static_cast<double>(reference[k]));
    e.mae += diff;
    e.mse += diff * diff;
    if (reference[k] > 0.05) {
      rel += diff / reference[k];
      ++e.rel_elements;
    }
  }
  e.mae /= static_cast<double>(output.size());
  e.mse /= static_cast<double>(output.size());
  e.abs_rel = rel / static_cast<double>(e.rel_elements);
  e.psnr = 10.0 * std::log10(1.0 / e.mse);
  return e;
}

void expect_metrics(const json& got, const Expected& want, size_t elements) {
  EXPECT_NEAR(got.at("mae").get<double>(), want.mae, 1e-12);
  EXPECT_NEAR(got.at("abs_rel").get<double>(), want.abs_rel, 1e-12);
  EXPECT_NEAR(got.at("mse").get<double>(), want.mse, 1e-12);
  EXPECT_NEAR(got.at("psnr_db").get<double>(), want.psnr, 1e-9);
  EXPECT_EQ(got.at("elements").get<size_t>(), elements);
  EXPECT_EQ(got.at("abs_rel_elements").get<size_t>(), want.rel_elements);
}

// Big-endian IDX header + payload, like the Fashion-MNIST files (read uncompressed as well).
std::string idx_file(const std::vector<uint32_t>& dims, const std::string& payload) {
  std::string bytes = {0, 0, 8, static_cast<char>(dims.size())};
  for (uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) bytes += static_cast<char>((d >> shift) & 0xff);
  return bytes + payload;
}

class CliEvalRegression : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("octet_cli_regression_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    write_model("scale.onnx", pointwise_conv_model(kSide, {0.5f}, {0.125f}));
    write_model("identity.onnx", pointwise_conv_model(kSide, {1.0f}, {0.0f}));
    write_model("two_channels.onnx", pointwise_conv_model(kSide, {1.0f, 2.0f}, {0.0f, 0.0f}));
    write_model("classifier.onnx", octet::test::tiny_conv_model());  // [1,1,4,4] -> [1,2]
    write_data(6);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  void write_model(const std::string& name, const onnx::ModelProto& model) const {
    octet::test::write_bytes(path(name), octet::test::serialize(model));
  }

  // x.npy (n,1,4,4) in [0,1] and t.npy (n,1,4,4) targets with zeros and small values among them.
  void write_data(size_t n) {
    inputs_.resize(n * kSide * kSide);
    targets_.resize(inputs_.size());
    for (size_t k = 0; k < inputs_.size(); ++k) {
      inputs_[k] = static_cast<float>((k * 37) % 101) / 100.0f;
      targets_[k] = static_cast<float>((k * 53) % 97) / 96.0f;
    }
    const std::vector<int64_t> shape = {static_cast<int64_t>(n), 1, kSide, kSide};
    octet::data::write_npy(path("x.npy"), shape, inputs_.data());
    octet::data::write_npy(path("t.npy"), shape, targets_.data());
  }

  // What scale.onnx computes: 0.5 x is exact, so one rounding whatever the kernel's order.
  std::vector<float> scaled_inputs() const {
    std::vector<float> out(inputs_.size());
    for (size_t k = 0; k < out.size(); ++k) out[k] = 0.5f * inputs_[k] + 0.125f;
    return out;
  }

  static json parse(const CliResult& result) {
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return json::parse(result.out);
  }

  fs::path dir_;
  std::vector<float> inputs_, targets_;
};

TEST_F(CliEvalRegression, MetricsAgainstTargets) {
  const json out = parse(run_octet({"eval", path("scale.onnx"), "--task", "regression", "--data",
                                    path("x.npy"), "--targets", path("t.npy"), "--json"}));
  EXPECT_EQ(out.at("task"), "regression");
  EXPECT_EQ(out.at("samples"), 6);
  EXPECT_FALSE(out.contains("vs_ref"));
  expect_metrics(out.at("vs_target"), expected_metrics(scaled_inputs(), targets_), inputs_.size());
}

TEST_F(CliEvalRegression, MetricsAgainstAReferenceModel) {
  for (const std::string backend : {"ref", "cpu"}) {
    SCOPED_TRACE(backend);
    const json out = parse(run_octet({"eval", path("scale.onnx"), "--task", "regression", "--data",
                                      path("x.npy"), "--targets", path("t.npy"), "--ref",
                                      path("identity.onnx"), "--backend", backend, "--json"}));
    EXPECT_EQ(out.at("ref"), path("identity.onnx"));
    expect_metrics(out.at("vs_target"), expected_metrics(scaled_inputs(), targets_),
                   inputs_.size());
    // Against the identity model's outputs, i.e. the inputs; abs_rel over inputs above 0.05.
    expect_metrics(out.at("vs_ref"), expected_metrics(scaled_inputs(), inputs_), inputs_.size());
  }
}

TEST_F(CliEvalRegression, TextReportShowsInfinitePsnrForExactOutputs) {
  // Targets equal to the inputs: the identity model is exact.
  CliResult result =
      run_octet({"eval", path("identity.onnx"), "--task", "regression", "--data", path("x.npy"),
                 "--targets", path("x.npy"), "--ref", path("identity.onnx")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("data      " + path("x.npy") + " (6 samples)"), std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("vs target MAE 0  abs_rel 0  PSNR inf dB"), std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("vs ref    MAE 0  abs_rel 0  PSNR inf dB"), std::string::npos)
      << result.out;

  // JSON has no infinity: psnr_db is null.
  const json out = parse(run_octet({"eval", path("identity.onnx"), "--task", "regression", "--data",
                                    path("x.npy"), "--targets", path("x.npy"), "--json"}));
  EXPECT_TRUE(out.at("vs_target").at("psnr_db").is_null());
  EXPECT_EQ(out.at("vs_target").at("mae"), 0.0);
}

TEST_F(CliEvalRegression, ThreadCountAndLimitDoNotChangeTheSums) {
  write_data(96);
  auto eval = [&](const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"eval",   path("scale.onnx"),    "--task",    "regression",
                                     "--data", path("x.npy"),         "--targets", path("t.npy"),
                                     "--ref",  path("identity.onnx"), "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    return parse(run_octet(args));
  };
  const json one = eval({"--threads", "1"});
  for (const std::string threads : {"2", "3", "7"}) {
    const json many = eval({"--threads", threads});
    EXPECT_EQ(many.at("vs_target").dump(), one.at("vs_target").dump()) << threads;  // every bit
    EXPECT_EQ(many.at("vs_ref").dump(), one.at("vs_ref").dump()) << threads;
  }
  const json limited = eval({"--limit", "5", "--threads", "2"});
  EXPECT_EQ(limited.at("samples"), 5);
  const size_t n = 5 * kSide * kSide;
  const std::vector<float> scaled = scaled_inputs();
  expect_metrics(limited.at("vs_target"),
                 expected_metrics({scaled.begin(), scaled.begin() + n},
                                  {targets_.begin(), targets_.begin() + n}),
                 n);
}

TEST_F(CliEvalRegression, QuantizedModelAgainstItsFloatReference) {
  CliResult quantized = run_octet(
      {"quantize", path("scale.onnx"), "--calib", path("x.npy"), "-o", path("scale.oct")});
  ASSERT_EQ(quantized.exit_code, 0) << quantized.err;
  const json out =
      parse(run_octet({"eval", path("scale.oct"), "--task", "regression", "--data", path("x.npy"),
                       "--targets", path("t.npy"), "--ref", path("scale.onnx"), "--json"}));
  // Outputs span [0.125, 0.625]: an int8 step is about 0.002, so the error stays within a step.
  const double mae = out.at("vs_ref").at("mae").get<double>();
  EXPECT_GT(mae, 0.0);
  EXPECT_LT(mae, 0.003);
  EXPECT_GT(out.at("vs_ref").at("psnr_db").get<double>(), 45.0);
  EXPECT_NEAR(out.at("vs_target").at("mae").get<double>(),
              expected_metrics(scaled_inputs(), targets_).mae, 0.003);
}

TEST_F(CliEvalRegression, NoisyFashionMnistMatchesNumpy) {
  // Three synthetic 28×28 images (pixel k = k % 256) in a fake datasets root.
  const fs::path root = dir_ / "datasets" / "fashion-mnist";
  fs::create_directories(root);
  std::string pixels(3 * 784, '\0');
  for (size_t k = 0; k < pixels.size(); ++k) pixels[k] = static_cast<char>(k % 256);
  octet::test::write_bytes((root / "t10k-images-idx3-ubyte").string(),
                           idx_file({3, 28, 28}, pixels));
  octet::test::write_bytes((root / "t10k-labels-idx1-ubyte").string(),
                           idx_file({3}, std::string(3, '\1')));
  write_model("identity28.onnx", pointwise_conv_model(28, {1.0f}, {0.0f}));
  const std::string env = "OCTET_DATASETS_DIR=" + (dir_ / "datasets").string();

  // The identity model's errors are the noise itself; NumPy (the training script's noise, then
  // the metrics over the clean float32 targets) gives these.
  const json out =
      parse(run_octet({"eval", path("identity28.onnx"), "--task", "regression", "--data",
                       "fashion-mnist-noisy:test", "--threads", "2", "--json"},
                      {env}));
  EXPECT_EQ(out.at("samples"), 3);
  const json& m = out.at("vs_target");
  EXPECT_NEAR(m.at("mae").get<double>(), 0.13892677603822065, 1e-12);
  EXPECT_NEAR(m.at("abs_rel").get<double>(), 0.43611865575024955, 1e-12);
  EXPECT_NEAR(m.at("psnr_db").get<double>(), 15.046486914813817, 1e-9);
  EXPECT_EQ(m.at("abs_rel_elements"), 2222);

  // Without noise the inputs are the targets.
  const json clean =
      parse(run_octet({"eval", path("identity28.onnx"), "--task", "regression", "--data",
                       "fashion-mnist-noisy:test:sigma=0:seed=5", "--json"},
                      {env}));
  EXPECT_EQ(clean.at("vs_target").at("mae"), 0.0);

  // The noisy set keeps its labels, so classification on noisy inputs works too.
  CliResult classify =
      run_octet({"eval", path("identity28.onnx"), "--data", "fashion-mnist-noisy:test"}, {env});
  EXPECT_EQ(classify.exit_code, 0) << classify.err;
  EXPECT_NE(classify.out.find("top-1"), std::string::npos);
}

TEST_F(CliEvalRegression, ClassificationStaysTheDefault) {
  const std::vector<int64_t> labels = {0, 1, 0, 1, 1, 0};
  octet::data::write_npy(path("l.npy"), {6}, labels.data());
  const json out = parse(run_octet({"eval", path("classifier.onnx"), "--data", path("x.npy"),
                                    "--labels", path("l.npy"), "--json"}));
  EXPECT_EQ(out.at("samples"), 6);
  EXPECT_TRUE(out.contains("top1"));
  EXPECT_FALSE(out.contains("vs_target"));
}

TEST_F(CliEvalRegression, TargetsMayDropTheBatchDimension) {
  // The classifier's [1,2] output against (N,2) targets: per-sample target shape [2].
  std::vector<float> targets(6 * 2, 0.5f);
  octet::data::write_npy(path("t2.npy"), {6, 2}, targets.data());
  const json out =
      parse(run_octet({"eval", path("classifier.onnx"), "--task", "regression", "--data",
                       path("x.npy"), "--targets", path("t2.npy"), "--json"}));
  EXPECT_EQ(out.at("vs_target").at("elements"), 12);
  // ... and (N,1,1,4,4) targets keep it, against the [1,1,4,4] output.
  const std::vector<int64_t> shape = {6, 1, 1, kSide, kSide};
  octet::data::write_npy(path("t5d.npy"), shape, targets_.data());
  const json five = parse(run_octet({"eval", path("scale.onnx"), "--task", "regression", "--data",
                                     path("x.npy"), "--targets", path("t5d.npy"), "--json"}));
  expect_metrics(five.at("vs_target"), expected_metrics(scaled_inputs(), targets_), inputs_.size());
}

// --- errors: one line naming what is wrong ---

TEST_F(CliEvalRegression, OutputShapeThatDoesNotMatchTheTargets) {
  CliResult result = run_octet({"eval", path("classifier.onnx"), "--task", "regression", "--data",
                                path("x.npy"), "--targets", path("t.npy")});
  expect_one_line_error(result, {"model output 'logits'", "[1,2]", "targets", "[1,4,4]"});
}

TEST_F(CliEvalRegression, ReferenceWithAnotherOutputShape) {
  CliResult result =
      run_octet({"eval", path("scale.onnx"), "--task", "regression", "--data", path("x.npy"),
                 "--targets", path("t.npy"), "--ref", path("two_channels.onnx")});
  expect_one_line_error(result, {"--ref model output 'y'", "[1,2,4,4]", "[1,1,4,4]"});
}

TEST_F(CliEvalRegression, UnknownTask) {
  CliResult result =
      run_octet({"eval", path("scale.onnx"), "--task", "segmentation", "--data", path("x.npy")});
  expect_one_line_error(result, {"--task", "segmentation", "classification", "regression"});
}

TEST_F(CliEvalRegression, ClassificationOnADatasetWithoutLabels) {
  expect_one_line_error(run_octet({"eval", path("classifier.onnx"), "--data", path("x.npy")}),
                        {"x.npy", "has no labels", "--labels"});
  // Targets without the regression task are a mistake, not something to ignore.
  expect_one_line_error(run_octet({"eval", path("classifier.onnx"), "--task", "classification",
                                   "--data", path("x.npy"), "--targets", path("t.npy")}),
                        {"--targets is only used with --task regression"});
}

TEST_F(CliEvalRegression, RegressionOnADatasetWithoutTargets) {
  expect_one_line_error(
      run_octet({"eval", path("scale.onnx"), "--task", "regression", "--data", path("x.npy")}),
      {"x.npy", "no regression targets", "--targets"});
}

TEST_F(CliEvalRegression, ReferenceOnlyWithRegression) {
  expect_one_line_error(run_octet({"eval", path("classifier.onnx"), "--data", path("x.npy"),
                                   "--ref", path("classifier.onnx")}),
                        {"--ref is only used with --task regression"});
}

TEST_F(CliEvalRegression, BadTargetsAndReferenceFiles) {
  std::vector<float> short_targets(5 * kSide * kSide, 0.5f);
  octet::data::write_npy(path("t5.npy"), {5, 1, kSide, kSide}, short_targets.data());
  expect_one_line_error(run_octet({"eval", path("scale.onnx"), "--task", "regression", "--data",
                                   path("x.npy"), "--targets", path("t5.npy")}),
                        {"x.npy' has 6 samples", "t5.npy' have 5"});
  expect_one_line_error(
      run_octet({"eval", path("scale.onnx"), "--task", "regression", "--data", path("x.npy"),
                 "--targets", path("t.npy"), "--ref", path("missing.onnx")}),
      {"missing.onnx"});
  expect_one_line_error(run_octet({"eval", path("scale.onnx"), "--task", "regression", "--data",
                                   "fashion-mnist-noisy:test:sigma=-1"}),
                        {"sigma '-1'"});
}

}  // namespace
