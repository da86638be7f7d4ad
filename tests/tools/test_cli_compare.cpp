// octet compare through the binary: the default rows, the per-tensor NPU ladder on a classifier
// and on the bundled denoiser (regression metrics against the targets and against fp32), and
// its flag errors.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "tests/tools/cli_runner.hpp"

using octet::test::run_octet;

namespace {

const std::string kModels = std::string(OCTET_SOURCE_DIR) + "/models/";

nlohmann::json compare_json(const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"compare", "--calib-count", "40", "--threads", "2", "--json"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto result = run_octet(args);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  return result.exit_code == 0 ? nlohmann::json::parse(result.out) : nlohmann::json::array();
}

TEST(CliCompare, DefaultRowsAreFp32StaticOtherWeightWidthAndDynamic) {
  const nlohmann::json rows = compare_json({kModels + "fashion_mnist_resnet.onnx", "--calib", "fashion-mnist:train",
                                            "--data", "fashion-mnist:test", "--limit", "60", "--backend", "cpu"});
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0]["config"], "fp32");
  EXPECT_EQ(rows[1]["config"], "int8 static minmax per-channel asymmetric");
  EXPECT_EQ(rows[2]["config"], "int8 static minmax per-channel asymmetric w7");
  EXPECT_EQ(rows[3]["config"], "int8 dynamic per-channel");
  for (const auto& row : rows) {
    EXPECT_EQ(row["samples"], 60);
    EXPECT_EQ(row["backend"], "cpu");
    EXPECT_GE(row["top1"].get<double>(), 0.8) << row["config"];
  }
  EXPECT_LT(rows[1]["size_ratio"].get<double>(), 0.3);
}

TEST(CliCompare, PtqLadderRunsTheNpuRowsOnTheNpuBackend) {
  const nlohmann::json rows =
      compare_json({kModels + "fashion_mnist_mobilenetv2.onnx", "--calib", "fashion-mnist:train", "--data",
                    "fashion-mnist:test", "--limit", "60", "--backend", "cpu", "--ptq-ladder"});
  ASSERT_EQ(rows.size(), 6u);
  const std::vector<std::string> names = {"fp32",
                                          "int8 per-channel (CPU)",
                                          "int8 per-tensor (NPU)",
                                          "int8 per-tensor + CLE (NPU)",
                                          "int8 per-tensor + CLE + BC (NPU)",
                                          "int8 per-tensor + CLE + BC, symmetric activations (NPU)"};
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i]["config"], names[i]);
    EXPECT_EQ(rows[i]["backend"], i < 2 ? "cpu" : "npu") << names[i];
    EXPECT_EQ(rows[i]["samples"], 60);
  }
}

// The table the README's denoiser section comes from: every row has MAE/abs_rel/PSNR against
// the clean targets, every int8 row the same against the fp32 model's outputs, and the fp32 row
// agrees with `octet eval --task regression` on the same data.
TEST(CliCompare, RegressionLadderOnTheBundledDenoiser) {
  const std::string model = kModels + "fashion_mnist_denoise.onnx";
  const nlohmann::json rows = compare_json({model, "--task", "regression", "--calib", "fashion-mnist-noisy:train",
                                            "--data", "fashion-mnist-noisy:test", "--limit", "40", "--backend",
                                            "cpu", "--ptq-ladder"});
  ASSERT_EQ(rows.size(), 6u);
  EXPECT_FALSE(rows[0].contains("vs_fp32"));
  for (size_t i = 1; i < rows.size(); ++i) {
    ASSERT_TRUE(rows[i].contains("vs_fp32")) << rows[i]["config"];
    EXPECT_GT(rows[i]["vs_fp32"]["psnr_db"].get<double>(), 20.0) << rows[i]["config"];
  }
  for (const auto& row : rows) {
    EXPECT_EQ(row["samples"], 40);
    EXPECT_GT(row["vs_target"]["abs_rel"].get<double>(), 0.0);
    EXPECT_GT(row["vs_target"]["psnr_db"].get<double>(), 15.0);
  }
  auto eval = run_octet({"eval", model, "--task", "regression", "--data", "fashion-mnist-noisy:test", "--limit",
                         "40", "--backend", "cpu", "--json"});
  ASSERT_EQ(eval.exit_code, 0) << eval.err;
  EXPECT_EQ(nlohmann::json::parse(eval.out)["vs_target"], rows[0]["vs_target"]);

  auto text = run_octet({"compare", model, "--task", "regression", "--calib", "fashion-mnist-noisy:train",
                         "--calib-count", "20", "--data", "fashion-mnist-noisy:test", "--limit", "20", "--backend",
                         "cpu", "--ptq-ladder"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("abs_rel vs fp32"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("per-tensor weights open"), std::string::npos) << text.out;
}

TEST(CliCompare, ContradictoryFlagsAreOneLineErrors) {
  const std::string model = kModels + "fashion_mnist_resnet.onnx";
  auto both = run_octet({"compare", model, "--calib", "fashion-mnist:train", "--data", "fashion-mnist:test",
                         "--sweep", "--ptq-ladder"});
  EXPECT_NE(both.exit_code, 0);
  ASSERT_EQ(both.err_lines().size(), 1u) << both.err;
  EXPECT_NE(both.err.find("--sweep excludes --ptq-ladder"), std::string::npos) << both.err;
  auto targets = run_octet({"compare", model, "--calib", "fashion-mnist:train", "--data", "fashion-mnist:test",
                            "--targets", "t.npy"});
  EXPECT_EQ(targets.exit_code, 1);
  ASSERT_EQ(targets.err_lines().size(), 1u) << targets.err;
  EXPECT_NE(targets.err.find("--targets is only used with --task regression"), std::string::npos) << targets.err;
}

}  // namespace
