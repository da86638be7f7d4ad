// Bad input through the real CLI: each must give a non-zero exit, exactly one stderr line that
// names the problem, no crash and no output file.
#include <gtest/gtest.h>

#include <filesystem>

#include "engine/data/npy.hpp"
#include "tests/tools/cli_expect.hpp"
#include "tests/tools/cli_runner.hpp"
#include "tests/tools/onnx_model_writer.hpp"

namespace fs = std::filesystem;
using octet::test::CliResult;
using octet::test::expect_one_line_error;
using octet::test::run_octet;

namespace {

class CliErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("octet_cli_errors_" + std::to_string(getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    model_ = (dir_ / "tiny.onnx").string();
    octet::test::write_bytes(model_, octet::test::serialize(octet::test::tiny_conv_model()));
    std::vector<float> input(16, 0.5f);
    octet::data::write_npy((dir_ / "x.npy").string(), {1, 1, 4, 4}, input.data());
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
  std::string model_;
};

TEST_F(CliErrors, ValidModelRuns) {
  CliResult result = run_octet({"run", model_, "--input", path("x.npy"), "--output", path("y.npy")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  octet::data::NpyArray y = octet::data::read_npy(path("y.npy"));
  EXPECT_EQ(y.shape, (std::vector<int64_t>{1, 2}));
}

TEST_F(CliErrors, TruncatedOnnxFile) {
  const std::string bytes = octet::test::serialize(octet::test::tiny_conv_model());
  // Several cut points: inside the header, inside an initializer, just before the end.
  for (size_t cut : {size_t{3}, bytes.size() / 3, bytes.size() / 2, bytes.size() - 2}) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    octet::test::write_bytes(path("cut.onnx"), bytes.substr(0, cut));
    CliResult result = run_octet({"run", path("cut.onnx"), "--input", path("x.npy"), "--output", path("y.npy")});
    expect_one_line_error(result, {"cut.onnx"});
    EXPECT_FALSE(fs::exists(path("y.npy")));
  }
}

TEST_F(CliErrors, UnknownOp) {
  octet::test::write_bytes(path("fancy.onnx"), octet::test::serialize(octet::test::tiny_conv_model("FancyOp")));
  CliResult result = run_octet({"info", path("fancy.onnx")});
  expect_one_line_error(result, {"unsupported op", "FancyOp", "act1"});
}

TEST_F(CliErrors, UnknownAttribute) {
  onnx::ModelProto model = octet::test::tiny_conv_model();
  auto* attribute = model.mutable_graph()->mutable_node(0)->add_attribute();
  attribute->set_name("winograd");
  attribute->set_type(onnx::AttributeProto::INT);
  attribute->set_i(1);
  octet::test::write_bytes(path("attr.onnx"), octet::test::serialize(model));
  CliResult result = run_octet({"info", path("attr.onnx")});
  expect_one_line_error(result, {"unsupported attribute", "winograd", "conv1"});
}

TEST_F(CliErrors, WrongInputShape) {
  std::vector<float> input(3 * 4 * 4, 0.5f);
  octet::data::write_npy(path("wrong.npy"), {1, 3, 4, 4}, input.data());
  CliResult result = run_octet({"run", model_, "--input", path("wrong.npy"), "--output", path("y.npy")});
  expect_one_line_error(result, {"[1,3,4,4]", "[1,1,4,4]", "input"});
  EXPECT_FALSE(fs::exists(path("y.npy")));
}

TEST_F(CliErrors, TruncatedNpyFile) {
  const std::string bytes = octet::test::slurp(path("x.npy"));
  octet::test::write_bytes(path("short.npy"), bytes.substr(0, bytes.size() - 5));
  CliResult result = run_octet({"run", model_, "--input", path("short.npy"), "--output", path("y.npy")});
  expect_one_line_error(result, {"short.npy"});
  EXPECT_FALSE(fs::exists(path("y.npy")));
}

TEST_F(CliErrors, TruncatedIdxFile) {
  // A fake datasets root whose Fashion-MNIST test images stop short of what the header says.
  const fs::path root = dir_ / "datasets" / "fashion-mnist";
  fs::create_directories(root);
  std::string images = {0, 0, 8, 3, 0, 0, 0, 10, 0, 0, 0, 28, 0, 0, 0, 28};
  images += std::string(100, '\x10');
  octet::test::write_bytes((root / "t10k-images-idx3-ubyte.gz").string(), images);
  std::string labels = {0, 0, 8, 1, 0, 0, 0, 10};
  labels += std::string(10, '\x01');
  octet::test::write_bytes((root / "t10k-labels-idx1-ubyte.gz").string(), labels);
  CliResult result = run_octet({"eval", model_, "--data", "fashion-mnist:test", "--json"},
                               {"OCTET_DATASETS_DIR=" + (dir_ / "datasets").string()});
  expect_one_line_error(result, {"t10k-images-idx3-ubyte.gz", "truncated"});
}

TEST_F(CliErrors, UnknownFlag) {
  CliResult result = run_octet({"eval", model_, "--data", "fashion-mnist:test", "--frobnicate"});
  expect_one_line_error(result, {"--frobnicate"});
}

TEST_F(CliErrors, MissingModelFile) {
  CliResult result = run_octet({"info", path("nope.onnx")});
  expect_one_line_error(result, {"nope.onnx", "does not exist"});
}

TEST_F(CliErrors, UnknownBackend) {
  CliResult result = run_octet({"run", model_, "--input", path("x.npy"), "--output", path("y.npy"), "--backend", "tpu"});
  expect_one_line_error(result, {"--backend", "tpu", "ref", "cpu"});
  EXPECT_FALSE(fs::exists(path("y.npy")));
}

TEST_F(CliErrors, OutputDirectoryMissing) {
  CliResult result = run_octet({"run", model_, "--input", path("x.npy"), "--output", path("no/such/dir/y.npy")});
  expect_one_line_error(result, {"y.npy"});
}

TEST_F(CliErrors, QuantizeFlagsThatContradictEachOther) {
  CliResult npu = run_octet({"quantize", model_, "--calib", path("x.npy"), "--target", "npu", "--weights",
                             "per-channel", "-o", path("q.oct")});
  expect_one_line_error(npu, {"--target npu", "per-tensor"});
  CliResult dynamic = run_octet({"quantize", model_, "--mode", "dynamic", "--bias-correction", "-o", path("q.oct")});
  expect_one_line_error(dynamic, {"--bias-correction", "static"});
  CliResult target = run_octet({"quantize", model_, "--calib", path("x.npy"), "--target", "gpu", "-o", path("q.oct")});
  expect_one_line_error(target, {"--target", "gpu"});
  EXPECT_FALSE(fs::exists(path("q.oct")));
}

}  // namespace
