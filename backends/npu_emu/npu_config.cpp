#include "backends/npu_emu/npu_config.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>

#include "graph/error.hpp"

namespace octet::npu {
namespace {

using Json = nlohmann::json;

// One JSON object of the config: typed, range-checked reads by key, and at the end an error for
// any key that was not read (a typo must not silently fall back to a default).
class ObjectReader {
 public:
  ObjectReader(const Json& object, std::string path, const std::string& source)
      : object_(object), path_(std::move(path)), source_(source) {
    if (!object_.is_object())
      fail(path_.empty() ? "the config must be a JSON object"
                         : "'" + path_ + "' must be an object");
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw Error("npu config '" + source_ + "': " + what);
  }

  std::string key_path(const std::string& key) const {
    return path_.empty() ? key : path_ + "." + key;
  }

  const Json& field(const std::string& key) {
    auto it = object_.find(key);
    if (it == object_.end()) fail("missing key '" + key_path(key) + "'");
    used_.insert(key);
    return *it;
  }

  bool has(const std::string& key) const { return object_.contains(key); }

  int64_t integer(const std::string& key, int64_t low, int64_t high) {
    const Json& value = field(key);
    if (!value.is_number_integer() || value.get<int64_t>() < low || value.get<int64_t>() > high)
      fail("'" + key_path(key) + "' must be an integer in [" + std::to_string(low) + ", " +
           std::to_string(high) + "], got " + value.dump());
    return value.get<int64_t>();
  }

  double positive_number(const std::string& key) {
    const Json& value = field(key);
    if (!value.is_number() || !(value.get<double>() > 0.0))
      fail("'" + key_path(key) + "' must be a positive number, got " + value.dump());
    return value.get<double>();
  }

  bool boolean(const std::string& key) {
    const Json& value = field(key);
    if (!value.is_boolean())
      fail("'" + key_path(key) + "' must be true or false, got " + value.dump());
    return value.get<bool>();
  }

  std::string choice(const std::string& key, const std::vector<std::string>& allowed) {
    const Json& value = field(key);
    std::string list;
    for (const auto& option : allowed) list += (list.empty() ? "\"" : ", \"") + option + "\"";
    if (!value.is_string() ||
        std::find(allowed.begin(), allowed.end(), value.get<std::string>()) == allowed.end())
      fail("'" + key_path(key) + "' must be one of " + list + ", got " + value.dump());
    return value.get<std::string>();
  }

  std::string string(const std::string& key) {
    const Json& value = field(key);
    if (!value.is_string()) fail("'" + key_path(key) + "' must be a string, got " + value.dump());
    return value.get<std::string>();
  }

  ObjectReader object(const std::string& key) {
    return ObjectReader(field(key), key_path(key), source_);
  }

  // Keys present in the object, in order (for maps such as "ops").
  std::vector<std::string> keys() const {
    std::vector<std::string> names;
    for (auto it = object_.begin(); it != object_.end(); ++it) names.push_back(it.key());
    return names;
  }

  void reject_unknown() const {
    for (auto it = object_.begin(); it != object_.end(); ++it)
      if (!used_.count(it.key())) fail("unknown key '" + key_path(it.key()) + "'");
  }

 private:
  const Json& object_;
  std::string path_;
  const std::string& source_;
  std::set<std::string> used_;
};

constexpr int64_t kBig = int64_t{1} << 40;

ConvLimits read_conv(ObjectReader r) {
  ConvLimits limits;
  limits.kernel_min = r.integer("kernel_min", 1, 1024);
  limits.kernel_max = r.integer("kernel_max", limits.kernel_min, 1024);
  limits.stride_min = r.integer("stride_min", 1, 1024);
  limits.stride_max = r.integer("stride_max", limits.stride_min, 1024);
  limits.dilation_max = r.integer("dilation_max", 1, 1024);
  limits.depthwise = r.boolean("depthwise");
  limits.grouped = r.boolean("grouped");
  r.reject_unknown();
  return limits;
}

PoolLimits read_pool(ObjectReader r) {
  PoolLimits limits;
  limits.kernel_max = r.integer("kernel_max", 1, 1024);
  limits.stride_max = r.integer("stride_max", 1, 1024);
  r.reject_unknown();
  return limits;
}

OpSupport read_ops(ObjectReader r) {
  OpSupport ops;
  for (const std::string& op : r.keys()) {
    if (op == "QConv") {
      ops.qconv = read_conv(r.object(op));
    } else if (op == "QGemm") {
      ObjectReader g = r.object(op);
      ops.qgemm = GemmLimits{g.integer("max_k", 1, kBig), g.integer("max_n", 1, kBig)};
      g.reject_unknown();
    } else if (op == "QAdd") {
      ObjectReader a = r.object(op);
      ops.qadd = AddLimits{a.boolean("broadcast_scalar")};
      a.reject_unknown();
    } else if (op == "MaxPool") {
      ops.max_pool = read_pool(r.object(op));
    } else if (op == "QAveragePool") {
      ops.average_pool = read_pool(r.object(op));
    } else if (op == "QGlobalAveragePool") {
      ObjectReader g = r.object(op);
      ops.global_average_pool = GlobalPoolLimits{g.integer("max_window", 1, kBig)};
      g.reject_unknown();
    } else if (op == "Flatten" || op == "Reshape") {
      r.object(op).reject_unknown();  // no limits: a copy of int8 data
      (op == "Flatten" ? ops.flatten : ops.reshape) = true;
    } else {
      r.fail("unknown op 'ops." + op +
             "' (the NPU can run QConv, QGemm, QAdd, MaxPool, QAveragePool, QGlobalAveragePool, "
             "Flatten, Reshape)");
    }
  }
  return ops;
}

Performance read_performance(ObjectReader r) {
  Performance p;
  p.macs_per_cycle = r.positive_number("macs_per_cycle");
  p.clock_mhz = r.positive_number("clock_mhz");
  p.sram_bytes = r.integer("sram_bytes", 0, kBig);
  const bool per_cycle = r.has("dram_bytes_per_cycle"), per_second = r.has("dram_gb_per_s");
  if (per_cycle == per_second)
    r.fail("'performance' must give exactly one of 'dram_bytes_per_cycle' and 'dram_gb_per_s'");
  // GB/s = 1e9 bytes per second; the clock gives clock_mhz * 1e6 cycles per second.
  p.dram_bytes_per_cycle = per_cycle ? r.positive_number("dram_bytes_per_cycle")
                                     : r.positive_number("dram_gb_per_s") * 1e3 / p.clock_mhz;
  p.layer_overhead_cycles = r.integer("layer_overhead_cycles", 0, kBig);
  r.reject_unknown();
  return p;
}

}  // namespace

NpuConfig parse_npu_config(const std::string& text, const std::string& source) {
  Json json;
  try {
    json = Json::parse(text, nullptr, true, true);  // comments allowed
  } catch (const Json::parse_error& error) {
    throw Error("npu config '" + source + "': not valid JSON: " + error.what());
  }
  ObjectReader r(json, "", source);
  NpuConfig config;
  config.source = source;
  config.name = r.string("name");
  config.per_tensor_weights_only = r.boolean("per_tensor_weights_only");
  if (!config.per_tensor_weights_only)
    r.fail(
        "'per_tensor_weights_only' must be true (an NPU with per-channel requantization is not "
        "emulated)");
  config.symmetric_activations_only =
      r.choice("activations", {"asymmetric", "symmetric"}) == "symmetric";
  config.weight_min = static_cast<int32_t>(r.integer("weight_min", -128, -1));
  config.weight_max = static_cast<int32_t>(r.integer("weight_max", 1, 127));
  config.accumulator_bits = static_cast<int32_t>(r.integer("accumulator_bits", 16, 32));
  config.rounding = r.choice("rounding", {"gemmlowp", "half_up"}) == "gemmlowp" ? Rounding::gemmlowp
                                                                                : Rounding::half_up;
  config.fp16_layers = r.boolean("fp16_layers");
  if (config.fp16_layers)
    r.fail("'fp16_layers' must be false (the emulated datapath is integer-only)");
  config.ops = read_ops(r.object("ops"));
  config.performance = read_performance(r.object("performance"));
  r.reject_unknown();
  return config;
}

NpuConfig load_npu_config(const std::string& path) {
  if (path.empty()) return default_npu_config();
  std::ifstream file(path);
  if (!file) throw Error("npu config '" + path + "' cannot be opened");
  std::stringstream text;
  text << file.rdbuf();
  return parse_npu_config(text.str(), path);
}

NpuConfig default_npu_config() {
  static const NpuConfig config = parse_npu_config(default_npu_config_text(), "built-in default");
  return config;
}

const char* rounding_name(Rounding rounding) {
  return rounding == Rounding::gemmlowp ? "gemmlowp" : "half_up";
}

}  // namespace octet::npu
