// `octet profile` through the real binary on the bundled ResNet (quantized here from 50
// training images): the three report files for two backends side by side, the modes and flags,
// --sensitivity, and one-line errors for every way the inputs can be wrong.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "engine/data/npy.hpp"
#include "tests/tools/cli_expect.hpp"
#include "tests/tools/cli_runner.hpp"
#include "tests/tools/onnx_model_writer.hpp"

namespace fs = std::filesystem;
using octet::test::CliResult;
using octet::test::expect_one_line_error;
using octet::test::run_octet;
using octet::test::slurp;

namespace {

const std::string kModel = std::string(OCTET_SOURCE_DIR) + "/models/fashion_mnist_resnet.onnx";

class CliProfile : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ =
        new fs::path(fs::temp_directory_path() / ("octet_cli_profile_" + std::to_string(getpid())));
    fs::create_directories(*dir_);
    const CliResult result = run_octet({"quantize", kModel, "--calib", "fashion-mnist:train",
                                        "--calib-count", "50", "-o", int8_model()});
    ASSERT_EQ(result.exit_code, 0) << result.err;
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }
  static std::string path(const std::string& name) { return (*dir_ / name).string(); }
  static std::string int8_model() { return path("resnet_int8.oct"); }

  static std::vector<std::string> profile_args(std::vector<std::string> extra) {
    std::vector<std::string> args = {
        "profile", int8_model(), "--ref",         kModel, "--data", "fashion-mnist:test",
        "--limit", "12",         "--timing-runs", "3"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  static fs::path* dir_;
};

fs::path* CliProfile::dir_ = nullptr;

TEST_F(CliProfile, WritesJsonCsvAndHtmlForTwoBackendsSideBySide) {
  const CliResult result =
      run_octet(profile_args({"--backend", "ref,cpu", "--json", path("p.json"), "--csv",
                              path("p.csv"), "--html", path("p.html")}));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("worst layers by local SQNR"), std::string::npos) << result.out;

  const nlohmann::json p = nlohmann::json::parse(slurp(path("p.json")));
  EXPECT_EQ(p["samples"], 12);
  EXPECT_EQ(p["modes"], (nlohmann::json{"propagated", "local"}));
  ASSERT_EQ(p["backends"].size(), 2u);
  EXPECT_EQ(p["backends"][0]["name"], "ref");
  EXPECT_EQ(p["backends"][1]["name"], "cpu");
  // Bit-exact backends: the same logits, the same SQNR and top-1.
  EXPECT_EQ(p["backends"][0]["output_sqnr_db"], p["backends"][1]["output_sqnr_db"]);
  EXPECT_EQ(p["backends"][0]["correct_top1"], p["backends"][1]["correct_top1"]);
  EXPECT_EQ(p["fp32"]["timed_runs"], 3);
  EXPECT_EQ(p["layers"].size(),
            26u);  // Quantize, 15 QConv, 6 QAdd, pool, flatten, QGemm, Dequantize
  size_t convs = 0;
  for (const auto& layer : p["layers"]) {
    if (layer["op"] != "QConv") continue;
    ++convs;
    for (const char* backend : {"ref", "cpu"}) {
      const auto& entry = layer["backends"][backend];
      EXPECT_TRUE(entry.contains("propagated") && entry.contains("local") &&
                  entry.contains("overflow"))
          << layer["node"];
      EXPECT_TRUE(entry["local"].contains("decomposition")) << layer["node"];
      EXPECT_GT(entry["local"]["sqnr_db"].get<double>(), 10.0) << layer["node"];
      EXPECT_EQ(entry["ran_on"], backend);
    }
  }
  EXPECT_EQ(convs, 15u);
  EXPECT_EQ(p["adds"].size(), 6u);
  for (const auto& add : p["adds"]) EXPECT_TRUE(add["int8"].get<bool>()) << add["node"];
  EXPECT_FALSE(p["tensors"].empty());
  EXPECT_TRUE(p["suggestions"].is_array());

  // CSV: a header and one row per layer and backend.
  std::ifstream csv(path("p.csv"));
  size_t lines = 0;
  for (std::string line; std::getline(csv, line);) ++lines;
  EXPECT_EQ(lines, 1 + 26u * 2);

  const std::string html = slurp(path("p.html"));
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  for (const char* part : {"id=\"sqnr-chart\"", "id=\"time-chart\"", "id=\"hist-0\"",
                           "Residual Add diagnostics", "Suggestions", "class=\"bar\""})
    EXPECT_NE(html.find(part), std::string::npos) << part;
  // Self-contained: nothing to fetch.
  for (const char* part : {"src=", "href=", "@import", "url("})
    EXPECT_EQ(html.find(part), std::string::npos) << part;
}

TEST_F(CliProfile, ModeAndOverflowFlagsShapeTheReport) {
  const CliResult result = run_octet(profile_args(
      {"--backend", "cpu", "--mode", "propagated", "--no-overflow", "--json", path("m.json")}));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json p = nlohmann::json::parse(slurp(path("m.json")));
  EXPECT_EQ(p["modes"], (nlohmann::json{"propagated"}));
  for (const auto& layer : p["layers"]) {
    EXPECT_FALSE(layer["backends"]["cpu"].contains("local"));
    EXPECT_FALSE(layer["backends"]["cpu"].contains("overflow"));
  }
}

TEST_F(CliProfile, SensitivityRanksEveryInt8Layer) {
  const CliResult result = run_octet(
      profile_args({"--backend", "cpu", "--mode", "local", "--sensitivity", "--sensitivity-samples",
                    "8", "--sensitivity-observers", "minmax", "--json", path("s.json")}));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("sensitivity on cpu (8 samples)"), std::string::npos) << result.out;
  const nlohmann::json p = nlohmann::json::parse(slurp(path("s.json")));
  EXPECT_EQ(p["sensitivity"]["ranking"].size(), 22u);  // 15 QConv, 6 QAdd, 1 QGemm
  EXPECT_EQ(p["sensitivity"]["trials"].size(), 44u);   // fp32 and observer:minmax each
  EXPECT_EQ(p["sensitivity"]["samples"], 8);
  // The model went without CLE and bias correction: both are measured as whole-model trials.
  ASSERT_EQ(p["sensitivity"]["passes"].size(), 3u);
  EXPECT_EQ(p["sensitivity"]["passes"][0]["fix"], "cle");
  EXPECT_EQ(p["sensitivity"]["passes"][1]["fix"], "bias-correction");
  EXPECT_EQ(p["sensitivity"]["passes"][2]["fix"], "cle+bias-correction");
  for (const auto& pass : p["sensitivity"]["passes"]) EXPECT_TRUE(pass["top1"].is_number()) << pass;
  EXPECT_NE(result.out.find("whole model: --cle"), std::string::npos) << result.out;
}

// --task regression on the bundled denoiser quantized per tensor: each backend's MAE, abs_rel
// and PSNR against the clean targets, the same figures `octet eval --task regression` gives, no
// top-1 anywhere; the sensitivity measures CLE and bias correction and the suggestions carry
// those measurements.
TEST_F(CliProfile, RegressionTaskOnTheBundledDenoiser) {
  const std::string denoiser = std::string(OCTET_SOURCE_DIR) + "/models/fashion_mnist_denoise.onnx";
  const std::string int8 = path("denoise_pt.oct");
  const CliResult quantized = run_octet({"quantize", denoiser, "--calib", "fashion-mnist-noisy:train",
                                         "--calib-count", "40", "--target", "npu", "-o", int8});
  ASSERT_EQ(quantized.exit_code, 0) << quantized.err;
  const CliResult result = run_octet(
      {"profile", int8, "--ref", denoiser, "--data", "fashion-mnist-noisy:test", "--limit", "16", "--timing-runs",
       "2", "--backend", "both", "--task", "regression", "--sensitivity", "--sensitivity-samples", "8",
       "--sensitivity-observers", "none", "--sensitivity-calib-count", "40", "--json", path("r.json"), "--html",
       path("r.html")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("abs_rel"), std::string::npos) << result.out;
  EXPECT_EQ(result.out.find("top-1"), std::string::npos) << result.out;
  const nlohmann::json p = nlohmann::json::parse(slurp(path("r.json")));
  EXPECT_EQ(p["task"], "regression");
  const CliResult eval = run_octet({"eval", int8, "--task", "regression", "--data", "fashion-mnist-noisy:test",
                                    "--limit", "16", "--backend", "npu", "--json"});
  ASSERT_EQ(eval.exit_code, 0) << eval.err;
  const nlohmann::json e = nlohmann::json::parse(eval.out);
  ASSERT_EQ(p["backends"].size(), 2u);  // --backend both: cpu and npu
  EXPECT_EQ(p["backends"][0]["name"], "cpu");
  EXPECT_EQ(p["backends"][1]["name"], "npu");
  for (const auto& backend : p["backends"]) {
    EXPECT_FALSE(backend.contains("top1"));
    EXPECT_DOUBLE_EQ(backend["regression"]["abs_rel"].get<double>(), e["vs_target"]["abs_rel"].get<double>());
    EXPECT_DOUBLE_EQ(backend["regression"]["mae"].get<double>(), e["vs_target"]["mae"].get<double>());
  }
  EXPECT_LT(p["fp32"]["regression"]["mae"].get<double>(), p["backends"][0]["regression"]["mae"].get<double>());
  ASSERT_EQ(p["sensitivity"]["passes"].size(), 3u);
  bool cle_measured = false;
  for (const auto& s : p["suggestions"])
    if (s["kind"] == "cle") cle_measured = s["measured"]["fix"] == "cle";
  EXPECT_TRUE(cle_measured) << p["suggestions"];
  EXPECT_NE(slurp(path("r.html")).find("abs_rel / MAE / PSNR"), std::string::npos);
  expect_one_line_error(run_octet({"profile", int8, "--ref", denoiser, "--data", "fashion-mnist:test", "--limit", "2",
                                   "--task", "regression"}),
                        {"--task regression", "fashion-mnist:test", "no regression targets"});
}

TEST_F(CliProfile, ErrorsAreOneLine) {
  expect_one_line_error(run_octet({"profile", int8_model(), "--data", "fashion-mnist:test"}),
                        {"--ref"});
  expect_one_line_error(run_octet({"profile", int8_model(), "--ref", path("missing.onnx"), "--data",
                                   "fashion-mnist:test", "--json", path("e.json")}),
                        {"missing.onnx", "does not exist"});
  expect_one_line_error(
      run_octet({"profile", int8_model(), "--ref", int8_model(), "--data", "fashion-mnist:test"}),
      {"--ref", "quantized model"});
  expect_one_line_error(run_octet({"profile", kModel, "--ref", kModel, "--data",
                                   "fashion-mnist:test", "--limit", "2"}),
                        {"no int8 activation"});
  expect_one_line_error(
      run_octet({"profile", int8_model(), "--ref", kModel, "--data", "imagenet:val"}),
      {"imagenet"});
  expect_one_line_error(run_octet(profile_args({"--backend", "cpu,tpu"})),
                        {"--backend", "tpu", "available"});
  // Another model as the reference: its input differs.
  octet::test::write_bytes(path("tiny.onnx"),
                           octet::test::serialize(octet::test::tiny_conv_model()));
  expect_one_line_error(run_octet({"profile", int8_model(), "--ref", path("tiny.onnx"), "--data",
                                   "fashion-mnist:test"}),
                        {"does not match the fp32 reference"});
  // Samples of the wrong shape.
  std::vector<float> x(2 * 16, 0.5f);
  octet::data::write_npy(path("x.npy"), {2, 1, 4, 4}, x.data());
  expect_one_line_error(run_octet({"profile", int8_model(), "--ref", kModel, "--data",
                                   path("x.npy"), "--json", path("e.json")}),
                        {"[1,1,28,28]", "x.npy"});
  EXPECT_FALSE(fs::exists(path("e.json")));
}

}  // namespace
