// The quantization pass end to end on a small residual network built by hand: calibration
// through executor hooks, the int8 graph's structure (fully int8 between Quantize and
// Dequantize), accuracy against fp32, dynamic mode, and the bad-data cases.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "engine/quantize.hpp"
#include "engine/session.hpp"
#include "tests/graph/graph_builder.hpp"
#include "tests/graph/run_graph.hpp"

using namespace octet;

namespace {

Graph residual_graph(uint32_t seed = 7) { return test::residual_test_graph(seed, 2, 4, 8, 3); }

std::vector<Tensor> random_inputs(size_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<Tensor> inputs;
  for (size_t i = 0; i < count; ++i) inputs.push_back(test::random_tensor({1, 2, 8, 8}, rng, 0.0f, 1.0f));
  return inputs;
}

CalibrationSource source_of(const std::vector<Tensor>& samples) {
  return {samples.size(), [&samples](size_t i, Tensor& input) {
            std::copy(samples[i].data<float>(), samples[i].data<float>() + samples[i].elements(),
                      input.mutable_data<float>());
          }};
}

double sqnr_db(const Tensor& reference, const Tensor& test_output) {
  double signal = 0, noise = 0;
  for (int64_t i = 0; i < reference.elements(); ++i) {
    const double r = reference.data<float>()[i], e = r - test_output.data<float>()[i];
    signal += r * r;
    noise += e * e;
  }
  return 10.0 * std::log10(signal / std::max(noise, 1e-30));
}

// Walks the graph from its inputs: every node between a QuantizeLinear and a DequantizeLinear
// must be an int8 op on int8/int32 values. Returns the offending node's label or "".
std::string first_float_op_inside_int8_region(const Graph& graph) {
  for (const Node& node : graph.nodes) {
    if (node.op == "QuantizeLinear" || node.op == "DequantizeLinear") continue;
    bool reads_int8 = false;
    for (const auto& input : node.inputs)
      if (!input.empty() && !graph.is_initializer(input) && graph.value_info(input).dtype == DType::i8) reads_int8 = true;
    const bool writes_float = graph.value_info(node.outputs[0]).dtype == DType::f32;
    if (reads_int8 && writes_float) return node.label();
    if (!reads_int8) return node.label() + " (float input inside the network)";
  }
  return "";
}

TEST(QuantizePass, ResidualNetworkRunsFullyInInt8) {
  Model fp32 = Model::from_graph(residual_graph());
  const auto calibration = random_inputs(64, 1);
  quant::QuantizeOptions options;
  QuantizationSummary summary;
  Model int8 = quantize_model(fp32, options, source_of(calibration), {}, &summary);
  const Graph& g = int8.graph();
  std::vector<std::string> ops = test::node_ops(g);
  EXPECT_EQ(ops.front(), "QuantizeLinear");
  EXPECT_EQ(ops.back(), "DequantizeLinear");
  EXPECT_EQ(std::count(ops.begin(), ops.end(), "QConv"), 3);
  EXPECT_EQ(std::count(ops.begin(), ops.end(), "QAdd"), 1);
  EXPECT_EQ(std::count(ops.begin(), ops.end(), "QGemm"), 1);
  EXPECT_EQ(std::count(ops.begin(), ops.end(), "QGlobalAveragePool"), 1);
  EXPECT_EQ(summary.report.quantize_nodes, 1u);
  EXPECT_EQ(summary.report.dequantize_nodes, 1u);
  EXPECT_EQ(summary.report.float_nodes, 0u);
  EXPECT_EQ(summary.calibration_samples, 64u);
  EXPECT_EQ(first_float_op_inside_int8_region(g), "");
  // The residual Add carries the fused ReLU.
  for (const Node& node : g.nodes)
    if (node.op == "QAdd") {
      EXPECT_EQ(node.attrs.get_string("activation", ""), "Relu");
    }
  // Inputs and outputs keep their names and float type.
  EXPECT_EQ(g.inputs, std::vector<std::string>{"x"});
  EXPECT_EQ(g.value_info("y").dtype, DType::f32);

  Session reference(fp32), quantized(int8);
  double worst = 1e9;
  for (const Tensor& input : random_inputs(32, 2)) {
    const Tensor a = test::run_session(reference, {input})[0];
    const Tensor b = test::run_session(quantized, {input})[0];
    worst = std::min(worst, sqnr_db(a, b));
  }
  EXPECT_GT(worst, 25.0) << "int8 output SQNR vs fp32";
}

TEST(QuantizePass, EveryObserverGranularityAndSchemeProducesAWorkingModel) {
  Model fp32 = Model::from_graph(residual_graph());
  const auto calibration = random_inputs(32, 3);
  const auto tests = random_inputs(8, 4);
  for (const auto& observer : quant::observer_kinds())
    for (bool per_channel : {true, false})
      for (bool symmetric : {false, true}) {
        SCOPED_TRACE(observer + (per_channel ? " per-channel" : " per-tensor") + (symmetric ? " symmetric" : " asymmetric"));
        quant::QuantizeOptions options;
        options.observer = observer;
        options.per_channel_weights = per_channel;
        options.symmetric_activations = symmetric;
        Model int8 = quantize_model(fp32, options, source_of(calibration));
        for (const auto& entry : int8.graph().quant) {
          if (symmetric && int8.graph().value_info(entry.first).dtype == DType::i8 &&
              !int8.graph().is_initializer(entry.first)) {
            EXPECT_EQ(entry.second.zero_points[0], 0) << entry.first;
          }
        }
        Session reference(fp32), quantized(int8);
        for (const Tensor& input : tests)
          EXPECT_GT(sqnr_db(test::run_session(reference, {input})[0], test::run_session(quantized, {input})[0]), 12.0);
      }
}

TEST(QuantizePass, DynamicModeQuantizesWeightsOnly) {
  Model fp32 = Model::from_graph(residual_graph());
  quant::QuantizeOptions options;
  options.mode = quant::QuantizationMode::dynamic_int8;
  QuantizationSummary summary;
  Model dynamic = quantize_model(fp32, options, {}, {}, &summary);
  std::vector<std::string> ops = test::node_ops(dynamic.graph());
  EXPECT_EQ(std::count(ops.begin(), ops.end(), "DynQConv"), 3);
  EXPECT_EQ(std::count(ops.begin(), ops.end(), "DynQGemm"), 1);
  EXPECT_EQ(std::count(ops.begin(), ops.end(), "QuantizeLinear"), 0);
  for (const auto& entry : dynamic.graph().initializers)
    if (entry.first.find("weight_q") != std::string::npos) {
      EXPECT_EQ(entry.second.dtype(), DType::i8);
    }
  Session reference(fp32), quantized(dynamic);
  for (const Tensor& input : random_inputs(8, 5))
    EXPECT_GT(sqnr_db(test::run_session(reference, {input})[0], test::run_session(quantized, {input})[0]), 25.0);
}

TEST(QuantizePass, AllZeroAndConstantCalibrationData) {
  Model fp32 = Model::from_graph(residual_graph());
  std::vector<Tensor> zeros(4, Tensor(DType::f32, {1, 2, 8, 8}));
  Model int8 = quantize_model(fp32, {}, source_of(zeros));
  for (const auto& entry : int8.graph().quant)
    for (float scale : entry.second.scales) {
      EXPECT_TRUE(std::isfinite(scale)) << entry.first;
      EXPECT_GT(scale, 0.0f) << entry.first;
    }
  // Zero input: the int8 model still gives the fp32 answer up to quantization of the biases.
  Session reference(fp32), quantized(int8);
  const Tensor a = test::run_session(reference, {zeros[0]})[0];
  const Tensor b = test::run_session(quantized, {zeros[0]})[0];
  for (int64_t i = 0; i < a.elements(); ++i) EXPECT_NEAR(a.data<float>()[i], b.data<float>()[i], 0.05);

  std::vector<Tensor> constant(4, Tensor(DType::f32, {1, 2, 8, 8}));
  for (auto& t : constant) std::fill(t.mutable_data<float>(), t.mutable_data<float>() + t.elements(), 0.5f);
  EXPECT_NO_THROW(quantize_model(fp32, {}, source_of(constant)));
}

TEST(QuantizePass, NanOrInfInCalibrationDataIsAClearError) {
  Model fp32 = Model::from_graph(residual_graph());
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    auto samples = random_inputs(3, 6);
    samples[1].mutable_data<float>()[17] = bad;
    const std::string message = test::error_message([&] { quantize_model(fp32, {}, source_of(samples)); });
    OCTET_EXPECT_CONTAINS(message, std::isnan(bad) ? "NaN" : "Inf");
    OCTET_EXPECT_CONTAINS(message, "'x'");
  }
}

TEST(QuantizePass, PerChannelWeightsWithAnAllZeroChannel) {
  Graph graph = residual_graph();
  float* w = graph.initializers.at("c2.w").mutable_data<float>();
  std::fill(w + 2 * 4 * 9, w + 3 * 4 * 9, 0.0f);  // output channel 2 of c2
  Model fp32 = Model::from_graph(std::move(graph));
  Model int8 = quantize_model(fp32, {}, source_of(random_inputs(32, 7)));
  Session reference(fp32), quantized(int8);
  for (const Tensor& input : random_inputs(8, 8))
    EXPECT_GT(sqnr_db(test::run_session(reference, {input})[0], test::run_session(quantized, {input})[0]), 25.0);
}

TEST(QuantizePass, KeepFloatLeavesTheNodeInFp32WithQuantizeDequantizeAround) {
  Model fp32 = Model::from_graph(residual_graph());
  quant::QuantizeOptions options;
  options.keep_float = {"fc"};
  QuantizationSummary summary;
  Model int8 = quantize_model(fp32, options, source_of(random_inputs(16, 9)), {}, &summary);
  EXPECT_EQ(summary.report.float_nodes, 1u);
  const Node* fc = test::find_node(int8.graph(), "fc");
  ASSERT_NE(fc, nullptr);
  EXPECT_EQ(fc->op, "Gemm");
  EXPECT_EQ(int8.graph().value_info(fc->inputs[0]).dtype, DType::f32);
}

TEST(QuantizePass, RefusesAnAlreadyQuantizedModelAndMissingCalibration) {
  Model fp32 = Model::from_graph(residual_graph());
  Model int8 = quantize_model(fp32, {}, source_of(random_inputs(4, 10)));
  OCTET_EXPECT_CONTAINS(test::error_message([&] { quantize_model(int8, {}, source_of(random_inputs(4, 10))); }),
                        "already quantized");
  OCTET_EXPECT_CONTAINS(test::error_message([&] { quantize_model(fp32, {}, {}); }), "calibration");
}

// Conv -> Resize (PyTorch's 2x nearest upsampling) -> Conv -> Add(skip from the upsampled map):
// the Resize copies int8 codes, so the whole network stays int8 between one Quantize and one
// Dequantize and the Resize output carries its input's qparams.
Graph upsampling_graph() {
  test::GraphBuilder b("upsampling", 11);
  b.input("x", {1, 2, 4, 4});
  b.conv("c1", "x", "c1o", 2, 4, 3, true, {{"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  b.node("Relu", "r1", {"c1o"}, {"r1o"});
  b.node("Resize", "up", {"r1o"}, {"upo"},
         {{"mode", std::string("nearest")}, {"coordinate_transformation_mode", std::string("asymmetric")},
          {"nearest_mode", std::string("floor")}, {"scales", std::vector<float>{1, 1, 2, 2}}});
  b.conv("c2", "upo", "c2o", 4, 4, 3, true, {{"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  b.node("Add", "skip", {"c2o", "upo"}, {"y"});
  b.output("y");
  return b.build();
}

std::vector<Tensor> small_inputs(size_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<Tensor> inputs;
  for (size_t i = 0; i < count; ++i) inputs.push_back(test::random_tensor({1, 2, 4, 4}, rng, -1.0f, 1.0f));
  return inputs;
}

TEST(QuantizePass, NearestResizeStaysInTheInt8Region) {
  Model fp32 = Model::from_graph(upsampling_graph());
  QuantizationSummary summary;
  Model int8 = quantize_model(fp32, {}, source_of(small_inputs(64, 12)), {}, &summary);
  const Graph& g = int8.graph();
  EXPECT_EQ(test::node_ops(g),
            (std::vector<std::string>{"QuantizeLinear", "QConv", "Resize", "QConv", "QAdd", "DequantizeLinear"}));
  EXPECT_EQ(summary.report.quantize_nodes, 1u);
  EXPECT_EQ(summary.report.dequantize_nodes, 1u);
  EXPECT_EQ(summary.report.float_nodes, 0u);
  EXPECT_EQ(first_float_op_inside_int8_region(g), "");
  const Node* up = test::find_node(g, "up");
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(g.value_info(up->inputs[0]).dtype, DType::i8);
  EXPECT_EQ(g.value_info(up->outputs[0]).dtype, DType::i8);
  EXPECT_EQ(g.value_info(up->outputs[0]).shape, (Shape{1, 4, 8, 8}));
  EXPECT_TRUE(g.quant.at(up->outputs[0]) == g.quant.at(up->inputs[0])) << "no requantization in Resize";

  Session reference(fp32);
  for (const std::string& backend : available_backends()) {
    SessionOptions options;
    options.backend = backend;
    options.convert_per_tensor = backend == "npu";  // the NPU takes per-tensor weights only
    Session quantized(int8, options);
    double worst = 1e9;
    for (const Tensor& input : small_inputs(16, 13))
      worst = std::min(worst, sqnr_db(test::run_session(reference, {input})[0], test::run_session(quantized, {input})[0]));
    EXPECT_GT(worst, 30.0) << "int8 output SQNR vs fp32 on " << backend;
  }
}

}  // namespace
