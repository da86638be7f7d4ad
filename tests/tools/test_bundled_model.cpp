// The bundled ResNet through the real CLI: logits match PyTorch's on 16 stored test images,
// and accuracy matches the figure recorded when the model was trained.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "engine/data/npy.hpp"
#include "engine/model.hpp"
#include "graph/onnx/onnx_import.hpp"
#include "tests/tools/cli_runner.hpp"

namespace fs = std::filesystem;
using octet::test::run_octet;

namespace {

const std::string kModel = std::string(OCTET_SOURCE_DIR) + "/models/fashion_mnist_resnet.onnx";
const std::string kRecord = std::string(OCTET_SOURCE_DIR) + "/models/fashion_mnist_resnet.json";
const std::string kFixtures = std::string(OCTET_SOURCE_DIR) + "/tests/fixtures/";

nlohmann::json recorded() {
  std::ifstream file(kRecord);
  return nlohmann::json::parse(file);
}

TEST(BundledModel, HasTheArchitectureTheIssueAsksFor) {
  octet::Graph graph = octet::import_onnx_file(kModel);
  size_t batchnorms = 0, adds = 0, projections = 0;
  for (const auto& node : graph.nodes) {
    batchnorms += node.op == "BatchNormalization";
    adds += node.op == "Add";
    if (node.op == "Conv" && graph.value_info(node.inputs[1]).shape[2] == 1) ++projections;
  }
  EXPECT_GE(batchnorms, 7u);
  EXPECT_GE(adds, 3u);          // skip connections
  EXPECT_GE(projections, 2u);   // 1×1 downsampling projections
  EXPECT_EQ(graph.value_info(graph.inputs[0]).shape, (octet::Shape{1, 1, 28, 28}));
  // After the inference passes every BatchNorm is folded into its Conv.
  octet::Model model = octet::Model::from_graph(std::move(graph));
  for (const auto& node : model.graph().nodes) EXPECT_NE(node.op, "BatchNormalization");
}

TEST(BundledModel, LogitsMatchPyTorchOn16Images) {
  const fs::path out = fs::temp_directory_path() / ("octet_logits_" + std::to_string(getpid()) + ".npy");
  auto result = run_octet({"run", kModel, "--input", kFixtures + "resnet_input16.npy", "--output", out.string()});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  octet::data::NpyArray ours = octet::data::read_npy(out.string());
  octet::data::NpyArray torch = octet::data::read_npy(kFixtures + "resnet_logits16.npy");
  fs::remove(out);
  ASSERT_EQ(ours.shape, torch.shape);
  ASSERT_EQ(ours.shape, (std::vector<int64_t>{16, 10}));
  double worst = 0.0;
  for (size_t i = 0; i < ours.count(); ++i)
    worst = std::max(worst, static_cast<double>(std::fabs(ours.f32()[i] - torch.f32()[i])));
  EXPECT_LE(worst, 1e-4) << "largest |octet - pytorch| logit difference";
}

TEST(BundledModel, AccuracyOnTestSubset) {
  auto result = run_octet({"eval", kModel, "--data", "fashion-mnist:test", "--limit", "500", "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto json = nlohmann::json::parse(result.out);
  EXPECT_EQ(json["samples"], 500);
  EXPECT_EQ(json["backend"], "ref");
  EXPECT_GE(json["top1"].get<double>(), 0.88);
  EXPECT_GE(json["top5"].get<double>(), json["top1"].get<double>());
}

// Full 10k test set (labelled "slow": skipped in the sanitizer build).
TEST(BundledModelSlow, FullTestSetMatchesRecordedPyTorchAccuracy) {
  auto result = run_octet({"eval", kModel, "--data", "fashion-mnist:test", "--json", "--threads", "2"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto json = nlohmann::json::parse(result.out);
  const double top1 = json["top1"].get<double>();
  const double pytorch = recorded()["pytorch_top1"].get<double>();
  EXPECT_EQ(json["samples"], 10000);
  EXPECT_GE(top1, 0.91);
  EXPECT_NEAR(top1, pytorch, 0.001);
}

}  // namespace
