// The npu backend: bit-identical to the ref backend under the default config, the partition it
// claims (and why not), per-channel refusal and conversion, and the performance model on a
// model small enough to compute by hand.
#include <gtest/gtest.h>

#include <unistd.h>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "backends/npu_emu/npu_constraints.hpp"
#include "backends/npu_emu/npu_perf.hpp"
#include "engine/quantize.hpp"
#include "engine/session.hpp"
#include "quant/per_tensor_conversion.hpp"
#include "tests/graph/graph_builder.hpp"

using namespace octet;
using octet::test::error_message;

namespace {

Model quantized_residual(bool per_channel, bool symmetric = false) {
  Model fp32 = Model::from_graph(test::residual_test_graph(11, 3, 8, 10, 5));
  quant::QuantizeOptions options;
  options.per_channel_weights = per_channel;
  options.symmetric_activations = symmetric;
  std::mt19937 rng(5);
  std::vector<Tensor> samples;
  for (int i = 0; i < 8; ++i) samples.push_back(test::random_tensor({1, 3, 10, 10}, rng));
  return quantize_model(fp32, options, {samples.size(), [&](size_t i, Tensor& input) {
                                          std::copy(
                                              samples[i].data<float>(),
                                              samples[i].data<float>() + samples[i].elements(),
                                              input.mutable_data<float>());
                                        }});
}

// A config file: the default text with `from` replaced by `to`; removed at the end of the test.
class ConfigFile {
 public:
  ConfigFile(const std::string& from, const std::string& to)
      : path_((std::filesystem::temp_directory_path() /
               ("octet_npu_test_" + std::to_string(getpid()) + "_" + std::to_string(counter_++) +
                ".json"))
                  .string()) {
    std::string text = npu::default_npu_config_text();
    const size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) text.replace(at, from.size(), to);
    std::ofstream(path_) << text;
  }
  ~ConfigFile() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::string path_;
};

SessionOptions npu_options(const std::string& config = "", bool convert = false) {
  SessionOptions options;
  options.backend = "npu";
  options.npu_config = config;
  options.convert_per_tensor = convert;
  return options;
}

// Runs `count` seeded random inputs through both sessions; returns how many output bytes differ.
int64_t differing_bytes(Session& a, Session& b, int count) {
  std::mt19937 rng(21);
  int64_t differ = 0;
  for (int i = 0; i < count; ++i) {
    const Tensor x = test::random_tensor(a.input_info(0).shape, rng, -1.5f, 1.5f);
    const Tensor ya = a.run({x})[0], yb = b.run({x})[0];
    const auto* pa = static_cast<const uint8_t*>(ya.raw());
    const auto* pb = static_cast<const uint8_t*>(yb.raw());
    for (size_t j = 0; j < ya.bytes(); ++j) differ += pa[j] != pb[j];
  }
  return differ;
}

std::map<std::string, std::string> placement(const CompiledPlan& plan) {
  std::map<std::string, std::string> where;
  for (const PlanStep& step : plan.steps())
    where[plan.graph().nodes[step.node_index].name] = step.backend;
  return where;
}

TEST(NpuBackend, DefaultConfigIsBitIdenticalToRefOnAResidualModel) {
  const Model model = quantized_residual(false);
  Session ref(model);
  Session npu(model, npu_options());
  EXPECT_EQ(differing_bytes(ref, npu, 32), 0);
  // Everything between the input Quantize and the output Dequantize is the NPU's; those two are
  // the host's (the cpu backend).
  for (const PlanStep& step : npu.plan().steps()) {
    const Node& node = model.graph().nodes[step.node_index];
    const bool boundary = node.op == "QuantizeLinear" || node.op == "DequantizeLinear";
    EXPECT_EQ(step.backend, boundary ? "cpu" : "npu") << node.label();
    if (boundary)
      OCTET_EXPECT_CONTAINS(step.fallback_reason, "float boundary");
    else
      EXPECT_EQ(step.fallback_reason, "");
  }
}

TEST(NpuBackend, HalfUpRoundingRunsEverythingAndStaysCloseToRef) {
  // Same placement as the default; outputs differ from ref only through the rounding of ties
  // (tests/backends/test_npu_kernels.cpp pins that down), so they stay close.
  const Model model = quantized_residual(false);
  ConfigFile config("\"rounding\": \"gemmlowp\"", "\"rounding\": \"half_up\"");
  Session ref(model);
  Session npu(model, npu_options(config.path()));
  for (const auto& [name, backend] : placement(npu.plan())) {
    if (name.find("quantize") == std::string::npos) {
      EXPECT_EQ(backend, "npu") << name;
    }
  }
  std::mt19937 rng(9);
  for (int i = 0; i < 8; ++i) {
    const Tensor x = test::random_tensor({1, 3, 10, 10}, rng);
    test::expect_close(npu.run({x})[0], ref.run({x})[0], 0.25, "half_up vs gemmlowp");
  }
}

TEST(NpuBackend, RefusedLayersRunOnTheHostAndSayWhy) {
  const Model model = quantized_residual(false);
  Session ref(model);
  // No QAdd, and 3x3 kernels refused: the Add and both 3x3 convolutions go to the host.
  ConfigFile config("\"QAdd\": { \"broadcast_scalar\": true },", "");
  ConfigFile small_kernels("\"kernel_max\": 7,      // kernel height and width",
                           "\"kernel_max\": 1,");
  Session no_add(model, npu_options(config.path()));
  EXPECT_EQ(differing_bytes(ref, no_add, 8), 0);
  Session one_by_one(model, npu_options(small_kernels.path()));
  EXPECT_EQ(differing_bytes(ref, one_by_one, 8), 0);
  for (const PlanStep& step : no_add.plan().steps()) {
    const Node& node = model.graph().nodes[step.node_index];
    if (node.op == "QAdd") {
      EXPECT_EQ(step.backend, "cpu");
      EXPECT_EQ(step.fallback_reason, "npu: QAdd is not among the config's ops");
    }
  }
  for (const PlanStep& step : one_by_one.plan().steps()) {
    const Node& node = model.graph().nodes[step.node_index];
    if (node.op != "QConv") continue;
    const bool three = model.graph().value_info(node.inputs[1]).shape[2] == 3;
    EXPECT_EQ(step.backend, three ? "cpu" : "npu") << node.label();
    if (three) {
      EXPECT_EQ(step.fallback_reason, "npu: kernel 3x3 outside 1");
    }
  }
  OCTET_EXPECT_CONTAINS(no_add.plan().partition_summary(), "fallback QAdd");
}

TEST(NpuBackend, SymmetricOnlyNpuRefusesAsymmetricActivations) {
  ConfigFile config("\"activations\": \"asymmetric\"", "\"activations\": \"symmetric\"");
  const Model asymmetric = quantized_residual(false, false);
  Session host(asymmetric, npu_options(config.path()));
  size_t refused = 0;
  for (const PlanStep& step : host.plan().steps())
    if (step.fallback_reason.find("asymmetric activation") != std::string::npos) ++refused;
  EXPECT_GE(refused, 5u);  // every layer touching a non-zero zero point
  const Model symmetric = quantized_residual(false, true);
  Session ref(symmetric);
  Session npu(symmetric, npu_options(config.path()));
  EXPECT_EQ(differing_bytes(ref, npu, 8), 0);
  for (const auto& [name, backend] : placement(npu.plan()))
    if (name.find("quantize") == std::string::npos) {
      EXPECT_EQ(backend, "npu") << name;
    }
}

TEST(NpuBackend, LintCheckPredictsThePartition) {
  ConfigFile config("\"QGemm\": { \"max_k\": 65536, \"max_n\": 65536 },",
                    "\"QGemm\": { \"max_k\": 4, \"max_n\": 65536 },");
  const Model model = quantized_residual(false);
  const npu::NpuConfig parsed = npu::load_npu_config(config.path());
  Session npu(model, npu_options(config.path()));
  for (const PlanStep& step : npu.plan().steps()) {
    const Node& node = model.graph().nodes[step.node_index];
    const npu::LayerCheck check = npu::check_layer(parsed, model.graph(), node);
    EXPECT_EQ(check.on_npu(), step.backend == "npu") << node.label();
    if (!check.on_npu()) {
      EXPECT_EQ(step.fallback_reason, "npu: " + check.reasons());
    }
  }
  EXPECT_EQ(placement(npu.plan()).at("fc"), "cpu");
}

TEST(NpuBackend, PerChannelModelIsRefusedNamingTheFirstLayer) {
  const Model model = quantized_residual(true);
  const std::string first = npu::first_per_channel_layer(model.graph());
  EXPECT_EQ(first, "QConv 'c1'");
  const std::string message = error_message([&] { Session session(model, npu_options()); });
  EXPECT_EQ(
      message,
      "npu: QConv 'c1' has per-channel weights and the NPU takes per-tensor weights only; pass "
      "--convert-per-tensor to convert them at load, or quantize with --weights per-tensor");
  // Each per-channel layer is named by the check as well.
  size_t refused = 0;
  for (const Node& node : model.graph().nodes) {
    const npu::LayerCheck check = npu::check_layer(npu::default_npu_config(), model.graph(), node);
    for (const auto& refusal : check.refusals)
      refused += refusal.kind == npu::RefusalKind::per_channel_weights;
  }
  EXPECT_EQ(refused, npu::per_channel_layers(model.graph()).size());
  EXPECT_EQ(refused, 4u);  // c1, c2, proj, fc
}

TEST(NpuBackend, ConvertPerTensorRunsThePerChannelModel) {
  const Model model = quantized_residual(true);
  std::vector<std::string> converted;
  const std::shared_ptr<const Graph> graph =
      graph_for_backend(model, npu_options("", true), &converted);
  EXPECT_EQ(converted, npu::per_channel_layers(model.graph()));
  EXPECT_TRUE(npu::per_channel_layers(*graph).empty());
  Session npu(model, npu_options("", true));
  for (const auto& [name, backend] : placement(npu.plan()))
    if (name.find("quantize") == std::string::npos) {
      EXPECT_EQ(backend, "npu") << name;
    }
  // Converted, the model computes nearly what the per-channel one does.
  Session ref(model);
  std::mt19937 rng(4);
  for (int i = 0; i < 8; ++i) {
    const Tensor x = test::random_tensor({1, 3, 10, 10}, rng);
    test::expect_close(npu.run({x})[0], ref.run({x})[0], 0.25, "converted vs per-channel");
  }
}

TEST(PerTensorConversion, WeightsAndBiasKeepTheirRealValues) {
  const Model model = quantized_residual(true);
  const Graph converted = quant::convert_weights_to_per_tensor(model.graph());
  EXPECT_EQ(converted.metadata.at("octet.quantization.weights"),
            "per-tensor (converted from per-channel at load)");
  for (const Node& node : model.graph().nodes) {
    if (node.op != "QConv" && node.op != "QGemm") continue;
    const QuantParams& before = model.graph().quant.at(node.inputs[1]);
    const QuantParams& after = converted.quant.at(node.inputs[1]);
    ASSERT_FALSE(after.per_channel());
    ASSERT_EQ(after.scales.size(), 1u);
    const Tensor& w0 = *model.graph().initializer(node.inputs[1]);
    const Tensor& w1 = *converted.initializer(node.inputs[1]);
    const int64_t per = w0.elements() / w0.shape()[0];
    int max_code = 0;
    for (int64_t i = 0; i < w0.elements(); ++i) {
      const double real0 =
          w0.data<int8_t>()[i] * static_cast<double>(before.scales[static_cast<size_t>(i / per)]);
      const double real1 = w1.data<int8_t>()[i] * static_cast<double>(after.scales[0]);
      EXPECT_LE(std::fabs(real0 - real1), after.scales[0] * 0.5 + 1e-9)
          << node.label() << " weight " << i;
      max_code = std::max(max_code, std::abs(static_cast<int>(w1.data<int8_t>()[i])));
    }
    EXPECT_EQ(max_code, 127) << node.label() << ": the largest weight uses the full range";
    if (node.has_input(2)) {
      const Tensor& b0 = *model.graph().initializer(node.inputs[2]);
      const Tensor& b1 = *converted.initializer(node.inputs[2]);
      for (int64_t c = 0; c < b0.elements(); ++c) {
        const double real0 =
            b0.data<int32_t>()[c] * static_cast<double>(before.scales[static_cast<size_t>(c)]);
        const double real1 = b1.data<int32_t>()[c] * static_cast<double>(after.scales[0]);
        EXPECT_LE(std::fabs(real0 - real1), after.scales[0] * 0.5 + 1e-9)
            << node.label() << " bias " << c;
      }
    }
  }
  // A per-tensor model comes back unchanged.
  const Model per_tensor = quantized_residual(false);
  std::vector<std::string> none;
  const Graph same = quant::convert_weights_to_per_tensor(per_tensor.graph(), &none);
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(same.quant, per_tensor.graph().quant);
}

TEST(NpuBackend, NpuOptionsWithAnotherBackendAreAnError) {
  const Model model = quantized_residual(false);
  SessionOptions options;
  options.backend = "cpu";
  options.convert_per_tensor = true;
  OCTET_EXPECT_CONTAINS(error_message([&] { compile(model, options); }),
                        "apply to the npu backend only");
}

TEST(NpuBackend, NarrowAccumulatorIsReportedAsAnOverflowRisk) {
  const Model model = quantized_residual(false);
  ConfigFile config("\"accumulator_bits\": 32", "\"accumulator_bits\": 16");
  const npu::NpuConfig narrow = npu::load_npu_config(config.path());
  for (const Node& node : model.graph().nodes) {
    const npu::LayerCheck check = npu::check_layer(narrow, model.graph(), node);
    if (!check.accumulator) continue;
    const npu::AccumulatorBound& a = *check.accumulator;
    // |bias| + K * max|x - zp| * max|w|, and the bits it needs.
    EXPECT_EQ(a.bound, a.max_abs_bias + a.depth * a.max_abs_input * a.max_abs_weight)
        << node.label();
    EXPECT_LE(a.bound, (int64_t{1} << (a.bits_needed - 1)) - 1);
    EXPECT_GT(a.bound, (int64_t{1} << (a.bits_needed - 2)) - 1);
    EXPECT_EQ(a.bits, 16);
    EXPECT_EQ(a.overflow_risk(), a.bound > 32767) << node.label();
    EXPECT_TRUE(check.on_npu()) << "a risk is reported, not refused";
  }
  const Node& c2 = *test::find_node(model.graph(), "c2");
  const npu::AccumulatorBound c2_bound = *npu::check_layer(narrow, model.graph(), c2).accumulator;
  EXPECT_EQ(c2_bound.depth, 72);  // 8 channels x 3 x 3
  EXPECT_TRUE(c2_bound.overflow_risk());
  EXPECT_EQ(npu::signed_bits_for(32767), 16);
  EXPECT_EQ(npu::signed_bits_for(32768), 17);
  EXPECT_EQ(npu::signed_bits_for(0), 1);
}

// x [1,1,4,4] -> Quantize -> QConv 1->2 3x3 pad 1 -> QConv 2->2 1x1 -> Dequantize.
Model tiny_int8_model() {
  Graph g;
  g.name = "tiny";
  g.inputs = {"x"};
  g.values["x"] = ValueInfo{DType::f32, {1, 1, 4, 4}};
  g.outputs = {"y"};
  g.quant["xq"] = QuantParams{{0.05f}, {-10}, -1};
  g.quant["y1"] = QuantParams{{0.04f}, {3}, -1};
  g.quant["y2"] = QuantParams{{0.03f}, {-2}, -1};
  auto weights = [&](const std::string& name, const Shape& shape) {
    Tensor w(DType::i8, shape);
    for (int64_t i = 0; i < w.elements(); ++i)
      w.mutable_data<int8_t>()[i] = static_cast<int8_t>((i * 37) % 255 - 127);
    g.initializers[name] = w;
    g.quant[name] = QuantParams{{0.01f}, {0}, -1};
    Tensor b(DType::i32, {shape[0]});
    for (int64_t i = 0; i < shape[0]; ++i)
      b.mutable_data<int32_t>()[i] = static_cast<int32_t>(100 * i - 50);
    g.initializers[name + ".b"] = b;
  };
  weights("w1", {2, 1, 3, 3});
  weights("w2", {2, 2, 1, 1});
  auto node = [&](const std::string& op, const std::string& name, std::vector<std::string> in,
                  std::string out) {
    Node n;
    n.op = op;
    n.name = name;
    n.inputs = std::move(in);
    n.outputs = {std::move(out)};
    g.nodes.push_back(n);
    return &g.nodes.back();
  };
  node("QuantizeLinear", "q", {"x"}, "xq");
  node("QConv", "c1", {"xq", "w1", "w1.b"}, "y1")
      ->attrs.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  node("QConv", "c2", {"y1", "w2", "w2.b"}, "y2");
  node("DequantizeLinear", "dq", {"y2"}, "y");
  return Model::from_graph(std::move(g), false);
}

npu::NpuEstimate estimate_for(const Model& model, const std::string& config_path) {
  Session session(model, npu_options(config_path));
  std::vector<bool> on_npu(model.graph().nodes.size());
  for (const PlanStep& step : session.plan().steps())
    on_npu[step.node_index] = step.backend == "npu";
  return npu::estimate_npu(model.graph(), on_npu, npu::load_npu_config(config_path).performance);
}

const char* kTinyPerformance =
    R"("performance": { "macs_per_cycle": 4, "clock_mhz": 1, "sram_bytes": SRAM,
    "dram_bytes_per_cycle": 2, "layer_overhead_cycles": 10 })";

std::string tiny_performance(int sram) {
  std::string text = kTinyPerformance;
  return text.replace(text.find("SRAM"), 4, std::to_string(sram));
}

const std::string kDefaultPerformance = R"("performance": {
    "macs_per_cycle": 256,          // int8 MACs per cycle of the MAC array
    "clock_mhz": 800,
    "sram_bytes": 262144,           // on-chip SRAM for activations and the current layer's weights
    "dram_bytes_per_cycle": 8,      // or "dram_gb_per_s" (exactly one of the two)
    "layer_overhead_cycles": 200    // fixed cost of starting a layer
  })";

TEST(NpuPerformance, TinyModelByHand) {
  // c1: 32 outputs x 9 taps = 288 MACs -> 72 compute cycles. DRAM: weights 18 + bias 8, input
  //     16 (from the host) = 42 bytes -> 21 cycles. 72 + 10 overhead = 82 cycles. Output y1 (32)
  //     stays in SRAM for c2. SRAM: 26 + 16 + 32 = 74.
  // c2: 32 x 2 = 64 MACs -> 16 cycles. DRAM: 4 + 8 weights, y2 (32) written for the host = 44
  //     -> 22 cycles; 22 + 10 = 32. SRAM: 12 + y1 32 + y2 32 = 76.
  const Model model = tiny_int8_model();
  ConfigFile config(kDefaultPerformance, tiny_performance(1000));
  const npu::NpuEstimate e = estimate_for(model, config.path());
  ASSERT_EQ(e.layers.size(), 2u);
  const npu::LayerEstimate& c1 = e.layers[0];
  const npu::LayerEstimate& c2 = e.layers[1];
  EXPECT_EQ(c1.node, "QConv 'c1'");
  EXPECT_EQ(c1.macs, 288);
  EXPECT_EQ(c1.compute_cycles, 72);
  EXPECT_EQ(c1.weight_bytes, 26);
  EXPECT_EQ(c1.input_dram_bytes, 16);
  EXPECT_EQ(c1.output_dram_bytes, 0);
  EXPECT_EQ(c1.dram_bytes, 42);
  EXPECT_EQ(c1.memory_cycles, 21);
  EXPECT_EQ(c1.cycles, 82);
  EXPECT_EQ(c1.sram_bytes, 74);
  EXPECT_EQ(c2.macs, 64);
  EXPECT_EQ(c2.dram_bytes, 44);
  EXPECT_EQ(c2.output_dram_bytes, 32);
  EXPECT_EQ(c2.cycles, 32);
  EXPECT_EQ(c2.sram_bytes, 76);
  EXPECT_EQ(e.macs, 352);
  EXPECT_EQ(e.cycles, 114);
  EXPECT_DOUBLE_EQ(e.latency_ms, 0.114);  // 114 cycles at 1 MHz
  EXPECT_EQ(e.dram_bytes, 86);
  EXPECT_EQ(e.sram_peak_bytes, 76);
}

TEST(NpuPerformance, ALayerThatDoesNotFitSpillsToDram) {
  // SRAM 75: c1 (74) fits, c2 (76) does not. c2 reads y1 from DRAM, so c1 writes it:
  // c1 DRAM 26 + 16 + 32 = 74 -> 37 cycles, still below 72 compute: 82 cycles.
  // c2 DRAM 12 + 32 + 32 = 76 -> 38 cycles > 16 compute: 48 cycles. SRAM peak capped at 75.
  const Model model = tiny_int8_model();
  ConfigFile config(kDefaultPerformance, tiny_performance(75));
  const npu::NpuEstimate e = estimate_for(model, config.path());
  ASSERT_EQ(e.layers.size(), 2u);
  EXPECT_TRUE(e.layers[0].fits);
  EXPECT_FALSE(e.layers[1].fits);
  EXPECT_EQ(e.layers[0].dram_bytes, 74);
  EXPECT_EQ(e.layers[0].cycles, 82);
  EXPECT_EQ(e.layers[1].dram_bytes, 76);
  EXPECT_EQ(e.layers[1].cycles, 48);
  EXPECT_EQ(e.cycles, 130);
  EXPECT_EQ(e.dram_bytes, 150);
  EXPECT_EQ(e.sram_peak_bytes, 75);
}

TEST(NpuPerformance, TinyModelRunsBitIdenticalToRef) {
  const Model model = tiny_int8_model();
  Session ref(model);
  Session npu(model, npu_options());
  EXPECT_EQ(differing_bytes(ref, npu, 16), 0);
}

}  // namespace

namespace {

TEST(NpuConstraints, Int8OpWithoutAnNpuKernelIsUnsupportedNotFloat) {
  // An int8 nearest Resize (it stays in the int8 region) has no NPU kernel: it is an op the
  // config lacks, not a float op.
  test::GraphBuilder b;
  b.input("x", {1, 2, 4, 4}, DType::i8).node("Resize", "up", {"x"}, {"y"});
  b.input("f", {1, 10}).node("Softmax", "soft", {"f"}, {"p"});
  const Graph graph = b.build();
  const npu::NpuConfig config = npu::default_npu_config();
  const npu::LayerCheck resize = npu::check_layer(config, graph, graph.nodes[0]);
  ASSERT_FALSE(resize.on_npu());
  EXPECT_EQ(resize.refusals[0].kind, npu::RefusalKind::unsupported_op);
  OCTET_EXPECT_CONTAINS(resize.reasons(), "Resize is not among the config's ops");
  const npu::LayerCheck softmax = npu::check_layer(config, graph, graph.nodes[1]);
  ASSERT_FALSE(softmax.on_npu());
  EXPECT_EQ(softmax.refusals[0].kind, npu::RefusalKind::host_op);
  OCTET_EXPECT_CONTAINS(softmax.reasons(), "float op");
}

}  // namespace
