// The NPU config: the documented default file is the compiled-in default; every field is
// required and checked; errors are one line naming the key and the file.
#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "backends/npu_emu/npu_config.hpp"
#include "tests/graph/graph_builder.hpp"

using namespace octet;
using octet::test::error_message;

namespace {

const std::string kDefaultFile =
    std::string(OCTET_SOURCE_DIR) + "/backends/npu_emu/default_npu.json";

// The default text with `from` replaced by `to` (each must occur exactly once).
std::string edited(const std::string& from, const std::string& to) {
  std::string text = npu::default_npu_config_text();
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  EXPECT_EQ(text.find(from, at + 1), std::string::npos) << from << " occurs twice";
  return text.replace(at, from.size(), to);
}

std::string parse_error(const std::string& text) {
  const std::string message = error_message([&] { npu::parse_npu_config(text, "my.json"); });
  EXPECT_EQ(message.find('\n'), std::string::npos) << "one line: " << message;
  OCTET_EXPECT_CONTAINS(message, "npu config 'my.json'");
  return message;
}

TEST(NpuConfig, DefaultFileIsTheCompiledInDefault) {
  std::ifstream file(kDefaultFile);
  std::stringstream text;
  text << file.rdbuf();
  EXPECT_EQ(text.str(), npu::default_npu_config_text());
  const npu::NpuConfig from_file = npu::load_npu_config(kDefaultFile);
  EXPECT_EQ(from_file.source, kDefaultFile);
  EXPECT_EQ(npu::load_npu_config("").source, "built-in default");
}

TEST(NpuConfig, DefaultValues) {
  const npu::NpuConfig c = npu::default_npu_config();
  EXPECT_EQ(c.name, "npu-emu-default");
  EXPECT_TRUE(c.per_tensor_weights_only);
  EXPECT_FALSE(c.symmetric_activations_only);
  EXPECT_EQ(c.weight_min, -127);
  EXPECT_EQ(c.weight_max, 127);
  EXPECT_EQ(c.accumulator_bits, 32);
  EXPECT_EQ(c.rounding, npu::Rounding::gemmlowp);
  EXPECT_FALSE(c.fp16_layers);
  ASSERT_TRUE(c.ops.qconv.has_value());
  EXPECT_EQ(c.ops.qconv->kernel_min, 1);
  EXPECT_EQ(c.ops.qconv->kernel_max, 7);
  EXPECT_EQ(c.ops.qconv->stride_min, 1);
  EXPECT_EQ(c.ops.qconv->stride_max, 2);
  EXPECT_TRUE(c.ops.qconv->depthwise);
  EXPECT_TRUE(c.ops.qgemm && c.ops.qadd && c.ops.max_pool && c.ops.average_pool &&
              c.ops.global_average_pool);
  EXPECT_TRUE(c.ops.flatten && c.ops.reshape);
  EXPECT_EQ(c.performance.macs_per_cycle, 256);
  EXPECT_EQ(c.performance.clock_mhz, 800);
  EXPECT_EQ(c.performance.sram_bytes, 262144);
  EXPECT_EQ(c.performance.dram_bytes_per_cycle, 8);
  EXPECT_EQ(c.performance.layer_overhead_cycles, 200);
}

TEST(NpuConfig, AlternativesParse) {
  const npu::NpuConfig c =
      npu::parse_npu_config(edited("\"weight_min\": -127,\n  \"weight_max\": 127",
                                   "\"weight_min\": -63,\n  \"weight_max\": 63"),
                            "x");
  EXPECT_EQ(c.weight_min, -63);
  EXPECT_EQ(c.weight_max, 63);
  EXPECT_EQ(
      npu::parse_npu_config(edited("\"rounding\": \"gemmlowp\"", "\"rounding\": \"half_up\""), "x")
          .rounding,
      npu::Rounding::half_up);
  EXPECT_TRUE(npu::parse_npu_config(
                  edited("\"activations\": \"asymmetric\"", "\"activations\": \"symmetric\""), "x")
                  .symmetric_activations_only);
  EXPECT_EQ(
      npu::parse_npu_config(edited("\"accumulator_bits\": 32", "\"accumulator_bits\": 16"), "x")
          .accumulator_bits,
      16);
  // An op left out of "ops" runs on the CPU.
  EXPECT_FALSE(
      npu::parse_npu_config(edited("\"QAdd\": { \"broadcast_scalar\": true },", ""), "x").ops.qadd);
}

TEST(NpuConfig, GigabytesPerSecondBecomeBytesPerCycle) {
  // 12.8 GB/s at 800 MHz = 16 bytes per cycle.
  const npu::NpuConfig c = npu::parse_npu_config(
      edited("\"dram_bytes_per_cycle\": 8,", "\"dram_gb_per_s\": 12.8,"), "x");
  EXPECT_DOUBLE_EQ(c.performance.dram_bytes_per_cycle, 16.0);
}

TEST(NpuConfig, UnknownKeysAreErrorsNamingTheKey) {
  OCTET_EXPECT_CONTAINS(
      parse_error(edited("\"fp16_layers\": false,", "\"fp16_layers\": false, \"turbo\": 1,")),
      "unknown key 'turbo'");
  OCTET_EXPECT_CONTAINS(
      parse_error(edited("\"kernel_min\": 1,", "\"kernel_min\": 1, \"kernal_max\": 3,")),
      "unknown key 'ops.QConv.kernal_max'");
  OCTET_EXPECT_CONTAINS(
      parse_error(edited("\"macs_per_cycle\": 256,", "\"macs_per_cycle\": 256, \"ghz\": 1,")),
      "unknown key 'performance.ghz'");
  OCTET_EXPECT_CONTAINS(parse_error(edited("\"Flatten\": {},", "\"Flatten\": {}, \"Resize\": {},")),
                        "unknown op 'ops.Resize'");
}

TEST(NpuConfig, WrongTypesAndRangesAreErrorsNamingTheKey) {
  OCTET_EXPECT_CONTAINS(
      parse_error(edited("\"accumulator_bits\": 32", "\"accumulator_bits\": \"32\"")),
      "'accumulator_bits' must be an integer in [16, 32], got \"32\"");
  OCTET_EXPECT_CONTAINS(parse_error(edited("\"accumulator_bits\": 32", "\"accumulator_bits\": 12")),
                        "'accumulator_bits' must be an integer in [16, 32], got 12");
  OCTET_EXPECT_CONTAINS(
      parse_error(edited("\"rounding\": \"gemmlowp\"", "\"rounding\": \"nearest\"")),
      "'rounding' must be one of \"gemmlowp\", \"half_up\", got \"nearest\"");
  OCTET_EXPECT_CONTAINS(parse_error(edited("\"depthwise\": true", "\"depthwise\": 1")),
                        "'ops.QConv.depthwise' must be true or false, got 1");
  OCTET_EXPECT_CONTAINS(parse_error(edited("\"weight_max\": 127", "\"weight_max\": 128")),
                        "'weight_max' must be an integer in [1, 127], got 128");
  OCTET_EXPECT_CONTAINS(parse_error(edited("\"clock_mhz\": 800", "\"clock_mhz\": 0")),
                        "'performance.clock_mhz' must be a positive number, got 0");
  OCTET_EXPECT_CONTAINS(parse_error(edited("\"ops\": {", "\"ops\": 3, \"unused\": {")),
                        "'ops' must be an object");
}

TEST(NpuConfig, MissingAndContradictoryFields) {
  OCTET_EXPECT_CONTAINS(parse_error(edited("\"rounding\": \"gemmlowp\",", "")),
                        "missing key 'rounding'");
  OCTET_EXPECT_CONTAINS(parse_error(edited("\"dram_bytes_per_cycle\": 8,",
                                           "\"dram_bytes_per_cycle\": 8, \"dram_gb_per_s\": 1,")),
                        "exactly one of 'dram_bytes_per_cycle' and 'dram_gb_per_s'");
  OCTET_EXPECT_CONTAINS(parse_error(edited("\"per_tensor_weights_only\": true",
                                           "\"per_tensor_weights_only\": false")),
                        "'per_tensor_weights_only' must be true");
  OCTET_EXPECT_CONTAINS(parse_error(edited("\"fp16_layers\": false", "\"fp16_layers\": true")),
                        "'fp16_layers' must be false");
  OCTET_EXPECT_CONTAINS(parse_error("{\"name\": \"x\",}"), "not valid JSON");
  OCTET_EXPECT_CONTAINS(parse_error("[1, 2]"), "the config must be a JSON object");
}

TEST(NpuConfig, FileErrorsNameTheFile) {
  const std::string missing =
      (std::filesystem::temp_directory_path() / "octet_no_such_npu.json").string();
  OCTET_EXPECT_CONTAINS(error_message([&] { npu::load_npu_config(missing); }),
                        "npu config '" + missing + "' cannot be opened");
  const std::string path =
      (std::filesystem::temp_directory_path() / ("octet_npu_" + std::to_string(getpid()) + ".json"))
          .string();
  std::ofstream(path) << edited("\"accumulator_bits\": 32", "\"accumulator_bits\": 33");
  OCTET_EXPECT_CONTAINS(
      error_message([&] { npu::load_npu_config(path); }),
      "npu config '" + path + "': 'accumulator_bits' must be an integer in [16, 32], got 33");
  std::filesystem::remove(path);
}

}  // namespace
