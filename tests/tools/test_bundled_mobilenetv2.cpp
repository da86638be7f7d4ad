// The bundled MobileNetV2 (depthwise 3x3 convolutions, inverted residuals with skip Adds, ReLU6
// exported as Clip(0, 6)) through the real CLI and the public API: every backend runs it, the
// per-tensor npu path is byte-identical to ref, and (labelled "slow", full test set) fp32 matches
// PyTorch, per-tensor weights lose tens of points and CLE + bias correction bring them back to
// within one point.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "engine/data/dataset_spec.hpp"
#include "engine/model.hpp"
#include "engine/session.hpp"
#include "graph/model_file.hpp"
#include "graph/onnx/onnx_import.hpp"
#include "tests/tools/cli_runner.hpp"
#include "tests/tools/output_byte_diff.hpp"

namespace fs = std::filesystem;
using namespace octet;
using octet::test::run_octet;

namespace {

const std::string kModel = std::string(OCTET_SOURCE_DIR) + "/models/fashion_mnist_mobilenetv2.onnx";
const std::string kRecord = std::string(OCTET_SOURCE_DIR) + "/models/fashion_mnist_mobilenetv2.json";

std::string temp_path(const std::string& name) {
  return (fs::temp_directory_path() / ("octet_mbv2_" + std::to_string(getpid()) + "_" + name)).string();
}

// Quantizes the bundled model with the CLI's flags into a temp .oct, removed at exit.
std::string quantized(const std::vector<std::string>& flags, const std::string& name) {
  const std::string out = temp_path(name + ".oct");
  std::vector<std::string> args = {"quantize", kModel, "--calib", "fashion-mnist:train", "-o", out};
  args.insert(args.end(), flags.begin(), flags.end());
  auto result = run_octet(args);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  return out;
}

nlohmann::json eval(const std::string& model, const std::string& backend, const std::string& limit) {
  std::vector<std::string> args = {"eval", model, "--data", "fashion-mnist:test", "--backend", backend, "--json",
                                   "--threads", "2"};
  if (!limit.empty()) args.insert(args.end(), {"--limit", limit});
  auto result = run_octet(args);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  return nlohmann::json::parse(result.out);
}

TEST(BundledMobileNetV2, HasDepthwiseConvolutionsInvertedResidualsAndRelu6) {
  const Graph graph = import_onnx_file(kModel);
  size_t depthwise = 0, relu6 = 0, adds = 0;
  for (const Node& node : graph.nodes) {
    adds += node.op == "Add";
    if (node.op == "Clip") {
      const Tensor* high = graph.initializer(node.inputs.at(2));
      ASSERT_NE(high, nullptr) << node.name;
      relu6 += high->data<float>()[0] == 6.0f;
    }
    if (node.op == "Conv") {
      const int64_t group = node.attrs.get_int("group", 1);
      depthwise += group > 1 && group == graph.value_info(node.inputs[1]).shape[0];
    }
  }
  EXPECT_GE(depthwise, 8u);
  EXPECT_GE(relu6, 16u);
  EXPECT_GE(adds, 4u);
}

// fp32 and int8 on every backend: depthwise Conv and Clip(0, 6) run everywhere. ref, cpu and
// npu are exact integer paths and must agree to the image; oneDNN rounds its requantization its
// own way (tests/backends/test_onednn_backend.cpp), so it may move an image or two.
TEST(BundledMobileNetV2, EveryBackendRunsItFp32AndInt8) {
  const double fp32_ref = eval(kModel, "ref", "300")["top1"].get<double>();
  EXPECT_GE(fp32_ref, 0.88);
  for (const char* backend : {"cpu", "onednn", "npu"}) EXPECT_EQ(eval(kModel, backend, "300")["top1"], fp32_ref) << backend;

  const std::string per_channel = quantized({"--calib-count", "100"}, "per_channel");
  const double int8_ref = eval(per_channel, "ref", "300")["top1"].get<double>();
  EXPECT_GE(int8_ref, fp32_ref - 0.02);
  EXPECT_EQ(eval(per_channel, "cpu", "300")["top1"], int8_ref);
  EXPECT_NEAR(eval(per_channel, "onednn", "300")["top1"].get<double>(), int8_ref, 0.01);
  fs::remove(per_channel);
}

// With the default config every int8 node of the per-tensor model (CLE + bias correction, which
// relaxes ReLU6 to ReLU between equalized pairs) runs on the npu, and its outputs are byte for byte
// those of the ref backend.
TEST(BundledMobileNetV2, PerTensorNpuIsBitIdenticalToRef) {
  const std::string oct =
      quantized({"--calib-count", "100", "--target", "npu", "--cle", "--bias-correction"}, "npu_ref");
  const Model model = Model::from_graph(load_model_file(oct), false);
  fs::remove(oct);
  const octet::test::RefAndNpuPlans plans = octet::test::ref_and_npu_plans(model);
  EXPECT_EQ(plans.on_npu, model.graph().nodes.size() - 2) << plans.npu->partition_summary();

  const data::Dataset test = data::load_dataset("fashion-mnist:test");
  constexpr size_t kImages = 600;
  const octet::test::ByteDiff diff = octet::test::output_byte_diff(plans.ref, plans.npu, test, kImages);
  EXPECT_EQ(diff.samples, static_cast<int64_t>(kImages));
  EXPECT_EQ(diff.differing, 0) << "output bytes that differ between npu and ref";
}

TEST(BundledMobileNetV2Slow, FullTestSetMatchesRecordedPyTorchAccuracy) {
  std::ifstream file(kRecord);
  const double pytorch = nlohmann::json::parse(file)["pytorch_top1"].get<double>();
  const nlohmann::json fp32 = eval(kModel, "cpu", "");
  EXPECT_EQ(fp32["samples"], 10000);
  EXPECT_GE(fp32["top1"].get<double>(), 0.90);
  EXPECT_NEAR(fp32["top1"].get<double>(), pytorch, 0.001);
}

// Issue 5's acceptance on MobileNetV2: plain per-tensor weights (depthwise layers whose channel
// ranges differ by orders of magnitude) lose tens of points; CLE + bias correction bring the
// per-tensor model within 1.0 point of fp32. Evaluated on the cpu backend, which runs the same
// integer arithmetic as the npu (bit-identity above and in tests/tools/test_npu_cli.cpp).
TEST(BundledMobileNetV2Slow, PerTensorWithCleAndBiasCorrectionIsWithinOnePointOfFp32) {
  const double fp32 = eval(kModel, "cpu", "")["top1"].get<double>();
  const std::string plain = quantized({"--target", "npu"}, "plain");
  const std::string fixed = quantized({"--target", "npu", "--cle", "--bias-correction"}, "cle_bc");
  const double per_tensor = eval(plain, "cpu", "")["top1"].get<double>();
  const double with_cle_bc = eval(fixed, "cpu", "")["top1"].get<double>();
  fs::remove(plain);
  fs::remove(fixed);
  std::printf("bundled MobileNetV2, full test set: fp32 %.2f%%, per-tensor %.2f%%, per-tensor + CLE + bias "
              "correction %.2f%%\n",
              100 * fp32, 100 * per_tensor, 100 * with_cle_bc);
  EXPECT_GE(fp32 - per_tensor, 0.10) << "per-tensor weights are expected to hurt this model";
  EXPECT_LE(fp32 - with_cle_bc, 0.01);
}

}  // namespace
