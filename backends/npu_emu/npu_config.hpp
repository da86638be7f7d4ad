#pragma once
// The emulated NPU's description (DESIGN.md §3): what its integer datapath accepts and how fast
// it is. Read from a JSON file (comments allowed); the documented default,
// backends/npu_emu/default_npu.json, is compiled in so `--backend npu` needs no file.
#include <cstdint>
#include <optional>
#include <string>

#include "backends/npu_emu/npu_kernel_requantize.hpp"  // Rounding

namespace octet::npu {

struct ConvLimits {
  int64_t kernel_min = 1, kernel_max = 7;
  int64_t stride_min = 1, stride_max = 2;
  int64_t dilation_max = 1;
  bool depthwise = true;
  bool grouped = true;
};

struct GemmLimits {
  int64_t max_k = 65536, max_n = 65536;
};

struct AddLimits {
  bool broadcast_scalar = true;
};

struct PoolLimits {
  int64_t kernel_max = 7, stride_max = 2;
};

struct GlobalPoolLimits {
  int64_t max_window = 4096;
};

// An op the NPU runs is present (with its limits); an absent op runs on the CPU.
struct OpSupport {
  std::optional<ConvLimits> qconv;
  std::optional<GemmLimits> qgemm;
  std::optional<AddLimits> qadd;
  std::optional<PoolLimits> max_pool;
  std::optional<PoolLimits> average_pool;
  std::optional<GlobalPoolLimits> global_average_pool;
  bool flatten = false;
  bool reshape = false;
};

struct Performance {
  double macs_per_cycle = 256;
  double clock_mhz = 800;
  int64_t sram_bytes = 262144;
  double dram_bytes_per_cycle = 8;  // from dram_gb_per_s / clock when the file gives that
  int64_t layer_overhead_cycles = 200;
};

struct NpuConfig {
  std::string name;
  std::string source;  // file path, or "built-in default"
  bool per_tensor_weights_only = true;
  bool symmetric_activations_only = false;
  int32_t weight_min = -127, weight_max = 127;
  int32_t accumulator_bits = 32;
  Rounding rounding = Rounding::gemmlowp;
  bool fp16_layers = false;
  OpSupport ops;
  Performance performance;
};

// Parses a config; `source` names it in errors ("npu config 'my.json': unknown key
// 'ops.QConv.kernal_max'"). Every field is required, every error is one line naming the key.
NpuConfig parse_npu_config(const std::string& text, const std::string& source);
// Reads and parses a file; an empty path gives the built-in default.
NpuConfig load_npu_config(const std::string& path);
NpuConfig default_npu_config();
// The built-in default's JSON text (the contents of default_npu.json).
const std::string& default_npu_config_text();

const char* rounding_name(Rounding rounding);

}  // namespace octet::npu
