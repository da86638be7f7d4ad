// The npu backend through the CLI: lint predicts the partition execution performs, per-channel
// models are refused (or converted), bench reports the performance model, and (slow) the
// bundled model quantized per tensor gives the ref backend's bytes on the full test set.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "engine/data/dataset_spec.hpp"
#include "engine/data/npy.hpp"
#include "engine/quantize.hpp"
#include "engine/session.hpp"
#include "graph/model_file.hpp"
#include "tests/graph/graph_builder.hpp"
#include "tests/tools/cli_runner.hpp"
#include "tests/tools/output_byte_diff.hpp"

namespace fs = std::filesystem;
using namespace octet;
using octet::test::run_octet;

namespace {

const std::string kFixtures = std::string(OCTET_SOURCE_DIR) + "/tests/fixtures/";

std::string temp_path(const std::string& name) {
  return (fs::temp_directory_path() / ("octet_npu_cli_" + std::to_string(getpid()) + "_" + name))
      .string();
}

// A model with something the default NPU refuses: a 9x9 convolution (kernels 1..7) and a Softmax
// (a float op after the output Dequantize), around layers it runs.
Graph mixed_graph() {
  test::GraphBuilder b("mixed", 3);
  b.input("x", {1, 3, 16, 16});
  b.conv("wide", "x", "c1", 3, 8, 9, true, {{"pads", std::vector<int64_t>{4, 4, 4, 4}}});
  b.node("Relu", "r1", {"c1"}, {"r1o"});
  b.conv("narrow", "r1o", "c2", 8, 8, 3, true, {{"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  b.node("Relu", "r2", {"c2"}, {"r2o"});
  b.node("MaxPool", "pool", {"r2o"}, {"p"},
         {{"kernel_shape", std::vector<int64_t>{2, 2}}, {"strides", std::vector<int64_t>{2, 2}}});
  b.node("GlobalAveragePool", "gap", {"p"}, {"g"});
  b.node("Flatten", "flat", {"g"}, {"f"});
  b.random_constant("fc.w", {4, 8});
  b.random_constant("fc.b", {4});
  b.node("Gemm", "fc", {"f", "fc.w", "fc.b"}, {"logits"}, {{"transB", int64_t{1}}});
  b.node("Softmax", "prob", {"logits"}, {"y"});
  b.output("y");
  return b.build();
}

// The mixed model quantized and saved as .oct; removed at exit of the test.
class SavedModel {
 public:
  SavedModel(const std::string& name, bool per_channel) : path_(temp_path(name + ".oct")) {
    Model fp32 = Model::from_graph(mixed_graph());
    quant::QuantizeOptions options;
    options.per_channel_weights = per_channel;
    std::mt19937 rng(8);
    std::vector<Tensor> samples;
    for (int i = 0; i < 4; ++i) samples.push_back(test::random_tensor({1, 3, 16, 16}, rng));
    const Model int8 = quantize_model(
        fp32, options, {samples.size(), [&](size_t i, Tensor& input) {
                          std::memcpy(input.mutable_raw(), samples[i].raw(), samples[i].bytes());
                        }});
    save_model_file(int8.graph(), path_);
  }
  ~SavedModel() { fs::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

nlohmann::json lint_json(const std::string& model, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args = {"lint", model, "--target", "npu", "--json"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto result = run_octet(args);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  return nlohmann::json::parse(result.out);
}

TEST(NpuCli, LintPredictsExactlyTheCpuFallbacksOfExecution) {
  SavedModel model("mixed", false);
  const nlohmann::json lint = lint_json(model.path());
  const std::vector<std::string> predicted =
      lint["summary"]["cpu_fallbacks"].get<std::vector<std::string>>();

  // The plan `--backend npu` executes (the CLI compiles exactly this).
  SessionOptions options;
  options.backend = "npu";
  const Model loaded = Model::from_graph(load_model_file(model.path()), false);
  const auto plan = compile(loaded, options);
  std::vector<std::string> executed;
  for (const PlanStep& step : plan->steps())
    if (step.backend != "npu") executed.push_back(loaded.graph().nodes[step.node_index].label());
  EXPECT_EQ(predicted, executed);
  // The refusals are the ones built in: the 9x9 kernel, the float boundary and the Softmax.
  EXPECT_NE(std::find(predicted.begin(), predicted.end(), "QConv 'wide'"), predicted.end());
  EXPECT_NE(std::find(predicted.begin(), predicted.end(), "Softmax 'prob'"), predicted.end());
  EXPECT_EQ(std::find(predicted.begin(), predicted.end(), "QConv 'narrow'"), predicted.end());
  for (const auto& layer : lint["layers"])
    if (layer["node"] == "QConv 'wide'") {
      EXPECT_EQ(layer["reasons"][0]["text"], "kernel 9x9 outside 1..7");
    }

  // And execution through the CLI agrees with the ref backend.
  const std::string input = temp_path("x.npy"), out_ref = temp_path("ref.npy"),
                    out_npu = temp_path("npu.npy");
  {
    std::mt19937 rng(2);
    const Tensor x = test::random_tensor({1, 3, 16, 16}, rng);
    data::write_npy(input, x.shape(), x.data<float>());
  }
  ASSERT_EQ(run_octet({"run", model.path(), "-i", input, "-o", out_ref}).exit_code, 0);
  auto npu = run_octet({"run", model.path(), "-i", input, "-o", out_npu, "--backend", "npu"});
  ASSERT_EQ(npu.exit_code, 0) << npu.err;
  EXPECT_EQ(test::slurp(out_ref), test::slurp(out_npu));
  for (const auto& file : {input, out_ref, out_npu}) fs::remove(file);
}

TEST(NpuCli, LintNamesEveryPerChannelLayerAndTheFix) {
  SavedModel model("per_channel", true);
  const nlohmann::json lint = lint_json(model.path());
  std::vector<std::string> refused, weighted;
  for (const auto& layer : lint["layers"]) {
    if (layer["op"] == "QConv" || layer["op"] == "QGemm") weighted.push_back(layer["node"]);
    for (const auto& reason : layer["reasons"])
      if (reason["kind"] == "per-channel weights") refused.push_back(layer["node"]);
  }
  EXPECT_EQ(refused, weighted);
  EXPECT_EQ(refused.size(), 3u);  // wide, narrow, fc
  EXPECT_EQ(lint["summary"]["refusals"]["per-channel weights"], 3);
  auto text = run_octet({"lint", model.path(), "--target", "npu"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  OCTET_EXPECT_CONTAINS(
      text.out,
      "cpu  QConv 'narrow': per-channel weights (8 scales), the NPU takes per-tensor weights only");
  OCTET_EXPECT_CONTAINS(text.out,
                        "fix: per-channel weights: run with --convert-per-tensor, or quantize with "
                        "--weights per-tensor");
}

TEST(NpuCli, PerChannelModelIsRefusedInOneLineUnlessConverted) {
  SavedModel model("refuse", true);
  const std::string input = temp_path("in.npy"), output = temp_path("out.npy");
  {
    std::mt19937 rng(3);
    const Tensor x = test::random_tensor({1, 3, 16, 16}, rng);
    data::write_npy(input, x.shape(), x.data<float>());
  }
  auto refused = run_octet({"run", model.path(), "-i", input, "-o", output, "--backend", "npu"});
  EXPECT_EQ(refused.exit_code, 1);
  ASSERT_EQ(refused.err_lines().size(), 1u) << refused.err;
  EXPECT_EQ(refused.err_lines()[0],
            "octet: error: npu: QConv 'wide' has per-channel weights and the NPU takes per-tensor "
            "weights only; pass "
            "--convert-per-tensor to convert them at load, or quantize with --weights per-tensor");
  EXPECT_FALSE(fs::exists(output));
  auto converted = run_octet(
      {"run", model.path(), "-i", input, "-o", output, "--backend", "npu", "--convert-per-tensor"});
  EXPECT_EQ(converted.exit_code, 0) << converted.err;
  OCTET_EXPECT_CONTAINS(converted.err,
                        "converting the per-channel weights of 3 layer(s) to per-tensor at load");
  EXPECT_TRUE(fs::exists(output));
  fs::remove(input);
  fs::remove(output);
}

TEST(NpuCli, BenchReportsTheEstimateBesideTheHostTime) {
  SavedModel model("bench", false);
  auto result = run_octet({"bench", model.path(), "--backend", "npu", "--iters", "3", "--warmup",
                           "1", "--json", "--layers"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto j = nlohmann::json::parse(result.out);
  EXPECT_EQ(j["backend"], "npu");
  const auto& e = j["npu"]["estimated"];
  EXPECT_GT(e["cycles"].get<int64_t>(), 0);
  EXPECT_GT(e["latency_ms"].get<double>(), 0.0);
  EXPECT_GT(e["dram_bytes"].get<int64_t>(), 0);
  EXPECT_GT(e["sram_peak_bytes"].get<int64_t>(), 0);
  EXPECT_GT(j["npu"]["host_emulation_ms"].get<double>(), 0.0);
  // Per layer: one entry per NPU node, summing to the totals.
  const auto& layers = j["npu"]["layers"];
  EXPECT_EQ(layers.size(), j["npu"]["npu_nodes"].get<size_t>());
  int64_t cycles = 0, dram = 0;
  for (const auto& layer : layers) {
    cycles += layer["cycles"].get<int64_t>();
    dram += layer["dram_bytes"].get<int64_t>();
  }
  EXPECT_EQ(cycles, e["cycles"].get<int64_t>());
  EXPECT_EQ(dram, e["dram_bytes"].get<int64_t>());
  OCTET_EXPECT_CONTAINS(j["partition"].get<std::string>(),
                        "fallback QConv 'wide': npu: kernel 9x9 outside 1..7");
}

TEST(NpuCli, NpuFlagsAndConfigErrorsAreOneLine) {
  SavedModel model("flags", false);
  auto wrong_backend = run_octet(
      {"bench", model.path(), "--backend", "cpu", "--convert-per-tensor", "--iters", "1"});
  EXPECT_EQ(wrong_backend.exit_code, 1);
  ASSERT_EQ(wrong_backend.err_lines().size(), 1u) << wrong_backend.err;
  OCTET_EXPECT_CONTAINS(wrong_backend.err, "--convert-per-tensor needs --backend npu");
  const std::string config = temp_path("bad.json");
  std::ofstream(config) << "{ \"name\": \"x\", \"acumulator_bits\": 16 }";
  auto bad = run_octet({"lint", model.path(), "--target", "npu", "--npu-config", config});
  EXPECT_EQ(bad.exit_code, 1);
  ASSERT_EQ(bad.err_lines().size(), 1u) << bad.err;
  OCTET_EXPECT_CONTAINS(bad.err,
                        "npu config '" + config + "': missing key 'per_tensor_weights_only'");
  fs::remove(config);
}

// Full 10k Fashion-MNIST test set (labelled "slow"): the bundled ResNet quantized per tensor
// gives byte-identical outputs on the npu backend (default config) and the ref backend.
TEST(NpuCliSlow, BundledModelPerTensorIsBitIdenticalToRefOnTheFullTestSet) {
  const std::string oct = temp_path("bundled_pt.oct");
  auto quantized = run_octet(
      {"quantize", std::string(OCTET_SOURCE_DIR) + "/models/fashion_mnist_resnet.onnx", "--calib",
       "fashion-mnist:train", "--calib-count", "100", "--weights", "per-tensor", "-o", oct});
  ASSERT_EQ(quantized.exit_code, 0) << quantized.err;
  const Model model = Model::from_graph(load_model_file(oct), false);
  fs::remove(oct);
  const data::Dataset test = data::load_dataset("fashion-mnist:test");
  ASSERT_EQ(test.size(), 10000u);
  const octet::test::RefAndNpuPlans plans = octet::test::ref_and_npu_plans(model);
  EXPECT_EQ(plans.on_npu, model.graph().nodes.size() - 2)
      << plans.npu->partition_summary();  // all but Quantize/Dequantize

  const octet::test::ByteDiff diff = octet::test::output_byte_diff(plans.ref, plans.npu, test, test.size());
  EXPECT_EQ(diff.samples, 10000);
  EXPECT_EQ(diff.differing, 0) << "output bytes that differ between npu and ref";
}

}  // namespace
