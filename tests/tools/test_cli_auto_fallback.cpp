// `octet quantize --auto-fallback BUDGET` through the real binary: a classifier whose int8
// version loses more than the budget gets the fewest fp32 layers that bring it back, a
// regression model is measured by its abs_rel increase, and the one-line errors.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>

#include "graph/model_file.hpp"
#include "tests/tools/cli_expect.hpp"
#include "tests/tools/cli_runner.hpp"
#include "tests/tools/onnx_model_writer.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using octet::test::CliResult;
using octet::test::expect_one_line_error;
using octet::test::run_octet;

namespace {

const std::string kModel = std::string(OCTET_SOURCE_DIR) + "/models/fashion_mnist_resnet.onnx";

class CliAutoFallback : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("octet_cli_fallback_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // The nodes the saved model runs in fp32, by name.
  static std::vector<std::string> float_nodes(const std::string& oct) {
    std::vector<std::string> names;
    const octet::Graph graph = octet::load_model_file(oct);
    for (const auto& node : graph.nodes)
      if (node.op == "Conv" || node.op == "Gemm" || node.op == "Add") names.push_back(node.name);
    std::sort(names.begin(), names.end());
    return names;
  }

  fs::path dir_;
};

TEST_F(CliAutoFallback, ClassifierGetsTheFewestFp32LayersThatMeetTheBudget) {
  // Calibrating on a single image with the symmetric entropy observer costs this model one
  // top-1 point (2 of the 200 test images) against fp32: twice the budget.
  const CliResult result = run_octet(
      {"quantize", kModel, "--calib", "fashion-mnist:train", "--calib-count", "1", "--observer",
       "entropy", "--activations", "symmetric", "--auto-fallback", "0.5", "--fallback-data",
       "fashion-mnist:test", "--fallback-count", "200", "-o", path("fallback.oct"), "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const json fallback = json::parse(result.out)["auto_fallback"];
  EXPECT_EQ(fallback["unit"], "top-1 points");
  EXPECT_GT(fallback["base_loss"].get<double>(), 0.5);
  EXPECT_TRUE(fallback["reached"].get<bool>());
  EXPECT_LE(fallback["loss"].get<double>(), 0.5 + 1e-9);
  std::vector<std::string> kept = fallback["kept_fp32"];
  EXPECT_FALSE(kept.empty());
  std::sort(kept.begin(), kept.end());
  EXPECT_EQ(float_nodes(path("fallback.oct")), kept);
  // Each step is on stderr and in the JSON; the last one re-quantizes with --keep-float.
  EXPECT_NE(result.err.find("auto-fallback: + "), std::string::npos) << result.err;
  EXPECT_EQ(fallback["steps"].front()["step"], "int8");
  EXPECT_EQ(fallback["steps"].back()["step"], "re-quantized with --keep-float");
  EXPECT_EQ(fallback["steps"].back()["loss"], fallback["loss"]);
}

TEST_F(CliAutoFallback, AGenerousBudgetKeepsEverythingInInt8) {
  const CliResult result =
      run_octet({"quantize", kModel, "--calib", "fashion-mnist:train", "--calib-count", "20",
                 "--auto-fallback", "50", "--fallback-count", "50", "-o", path("all_int8.oct")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("fallback    budget met; fp32 layers kept: none"), std::string::npos)
      << result.out;
  EXPECT_TRUE(float_nodes(path("all_int8.oct")).empty());
}

TEST_F(CliAutoFallback, RegressionModelIsMeasuredByItsAbsRelIncrease) {
  // An identity 1x1 convolution denoising nothing: its int8 version adds rounding to the
  // output; in fp32 it is the fp32 model exactly, so a zero budget is met by keeping it.
  onnx::ModelProto model;
  model.set_ir_version(7);
  model.add_opset_import()->set_version(13);
  auto* graph = model.mutable_graph();
  graph->set_name("identity");
  octet::test::add_tensor_value(graph->add_input(), "x", {1, 1, 28, 28});
  octet::test::add_tensor_value(graph->add_output(), "y", {1, 1, 28, 28});
  octet::test::add_float_initializer(*graph, "w", {1, 1, 1, 1}, {1.0f});
  octet::test::add_float_initializer(*graph, "b", {1}, {0.0f});
  auto* conv = graph->add_node();
  conv->set_op_type("Conv");
  conv->set_name("conv");
  for (const char* input : {"x", "w", "b"}) conv->add_input(input);
  conv->add_output("y");
  octet::test::write_bytes(path("identity.onnx"), octet::test::serialize(model));

  const CliResult result = run_octet(
      {"quantize", path("identity.onnx"), "--calib", "fashion-mnist-noisy:train", "--calib-count",
       "20", "--task", "regression", "--auto-fallback", "0", "--fallback-data",
       "fashion-mnist-noisy:test", "--fallback-count", "30", "-o", path("identity.oct"), "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const json fallback = json::parse(result.out)["auto_fallback"];
  EXPECT_EQ(fallback["unit"], "relative abs_rel increase");
  EXPECT_GT(fallback["base_loss"].get<double>(), 0.0);
  EXPECT_EQ(fallback["kept_fp32"], (json{"conv"}));
  EXPECT_EQ(fallback["loss"].get<double>(), 0.0);
  EXPECT_TRUE(fallback["reached"].get<bool>());
  EXPECT_EQ(float_nodes(path("identity.oct")), (std::vector<std::string>{"conv"}));
}

TEST_F(CliAutoFallback, ErrorsAreOneLine) {
  expect_one_line_error(run_octet({"quantize", kModel, "--mode", "dynamic", "--auto-fallback", "1",
                                   "-o", path("d.oct")}),
                        {"--auto-fallback", "static"});
  expect_one_line_error(run_octet({"quantize", kModel, "--calib", "fashion-mnist:train",
                                   "--auto-fallback", "-1", "-o", path("n.oct")}),
                        {"--auto-fallback"});
  expect_one_line_error(run_octet({"quantize", kModel, "--calib", "fashion-mnist:train",
                                   "--calib-count", "5", "--auto-fallback", "1", "--task",
                                   "regression", "--fallback-count", "5", "-o", path("r.oct")}),
                        {"no regression targets"});
  EXPECT_FALSE(fs::exists(path("d.oct")) || fs::exists(path("n.oct")) || fs::exists(path("r.oct")));
}

}  // namespace
