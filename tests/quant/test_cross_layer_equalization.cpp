// Cross-Layer Equalization: the fp32 function is unchanged (random graphs with plain, grouped,
// depthwise and Gemm pairs, chains, the bundled ResNet), channel ranges become equal, and values
// read by an Add or by several nodes are left alone; ReLU6 is relaxed to ReLU (or left alone on request).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <random>

#include "engine/data/npy.hpp"
#include "engine/model.hpp"
#include "graph/onnx/onnx_import.hpp"
#include "quant/cross_layer_equalization.hpp"
#include "tests/graph/graph_builder.hpp"
#include "tests/graph/run_graph.hpp"
#include "tests/quant/channel_scaled_model.hpp"

using namespace octet;

namespace {

const test::Attrs kPad1 = {{"pads", std::vector<int64_t>{1, 1, 1, 1}}};
const test::Attrs kRelu = {{"activation", std::string("Relu")}, {"activation_min", 0.0f},
                           {"activation_max", std::numeric_limits<float>::infinity()}};

double max_over_min(const std::vector<float>& ranges) {
  const auto [lo, hi] = std::minmax_element(ranges.begin(), ranges.end());
  return static_cast<double>(*hi) / static_cast<double>(*lo);
}

// Multiplies output channel c of the initializer `name` (axis 0) by 10^u, u uniform in [-1, 1]:
// the unequal ranges trained networks have, made worse.
void unbalance(Graph& graph, const std::string& name, std::mt19937& rng) {
  Tensor& w = graph.initializers.at(name);
  const int64_t channels = w.shape()[0], per = w.elements() / channels;
  std::uniform_real_distribution<float> exponent(-1.0f, 1.0f);
  for (int64_t c = 0; c < channels; ++c) {
    const float factor = std::pow(10.0f, exponent(rng));
    for (int64_t k = 0; k < per; ++k) w.mutable_data<float>()[c * per + k] *= factor;
  }
}

std::vector<Tensor> random_inputs(const Shape& shape, size_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<Tensor> inputs;
  for (size_t i = 0; i < count; ++i) inputs.push_back(test::random_tensor(shape, rng, -1.0f, 1.0f));
  return inputs;
}

// Runs `graph` before and after equalization on the same inputs; outputs must agree to 1e-5.
Graph equalize_and_check_function(const Graph& graph, const Shape& input_shape, quant::EqualizationReport& report) {
  Graph equalized = graph;
  report = quant::equalize_cross_layer(equalized);
  Model before = Model::from_graph(graph, false), after = Model::from_graph(equalized, false);
  Session a(before), b(after);
  for (const Tensor& input : random_inputs(input_shape, 4, 99)) {
    const Tensor ya = test::run_session(a, {input})[0];
    const Tensor yb = test::run_session(b, {input})[0];
    double scale = 0.0;
    for (int64_t i = 0; i < ya.elements(); ++i) scale = std::max(scale, std::fabs(double{ya.data<float>()[i]}));
    // Relative to the output's magnitude: 1e-5 of the largest logit, elementwise.
    for (int64_t i = 0; i < ya.elements(); ++i)
      EXPECT_NEAR(yb.data<float>()[i], ya.data<float>()[i], 1e-5 * std::max(scale, 1e-3)) << "element " << i;
  }
  return equalized;
}

test::Attrs with(test::Attrs a, const test::Attrs& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// conv(3->8) -> ReLU -> conv(8->8, groups) -> ReLU -> conv(8->6) -> ReLU -> GAP -> Flatten
//   -> Gemm(6->5, transB) -> ReLU -> Gemm(5->4, transB = 0, alpha, beta)
// `group` 1 is a plain chain, 2 grouped, 8 makes the middle conv depthwise.
Graph chain_graph(int64_t group, uint32_t seed) {
  test::GraphBuilder b("chain", seed);
  b.input("x", {1, 3, 8, 8});
  b.conv("c1", "x", "c1o", 3, 8, 3, true, with(kPad1, kRelu));
  b.conv("c2", "c1o", "c2o", 8, 8, 3, true, with(kPad1, kRelu), group);
  b.conv("c3", "c2o", "c3o", 8, 6, 1, false, kRelu);
  b.node("GlobalAveragePool", "gap", {"c3o"}, {"gapo"});
  b.node("Flatten", "flat", {"gapo"}, {"flato"});
  b.random_constant("g1.w", {5, 6});
  b.random_constant("g1.b", {5});
  b.node("Gemm", "g1", {"flato", "g1.w", "g1.b"}, {"g1o"}, with(kRelu, {{"transB", int64_t{1}}}));
  b.random_constant("g2.w", {5, 4});  // transB = 0: [K, N]
  b.random_constant("g2.b", {1, 4});
  b.node("Gemm", "g2", {"g1o", "g2.w", "g2.b"}, {"y"}, {{"alpha", 0.7f}, {"beta", 1.3f}});
  b.output("y");
  Graph graph = b.build();
  std::mt19937 rng(seed);
  for (const char* weight : {"c1.w", "c2.w", "c3.w", "g1.w"}) unbalance(graph, weight, rng);
  graph.infer_shapes();
  return graph;
}

TEST(CrossLayerEqualization, ChainsKeepTheirFunctionAndTheirRangesEqualize) {
  for (int64_t group : {1, 2, 8}) {
    SCOPED_TRACE("group " + std::to_string(group));
    const Graph graph = chain_graph(group, 11 + static_cast<uint32_t>(group));
    const std::vector<quant::ScalablePair> pairs = quant::find_scalable_pairs(graph);
    ASSERT_EQ(pairs.size(), 3u);  // c1-c2, c2-c3, g1-g2; c3 -> GAP is not a pair
    quant::EqualizationReport report;
    const Graph equalized = equalize_and_check_function(graph, {1, 3, 8, 8}, report);
    EXPECT_EQ(report.equalized.size(), 3u);
    EXPECT_GT(report.iterations, 1);  // c2 sits in two pairs: one sweep cannot settle both
    for (const quant::ScalablePair& pair : pairs) {
      const Node& first = equalized.nodes[pair.first];
      const Node& second = equalized.nodes[pair.second];
      const double before = max_over_min(quant::output_channel_ranges(graph, graph.nodes[pair.first]));
      const double after = max_over_min(quant::output_channel_ranges(equalized, first));
      EXPECT_LT(after, before) << first.label();
      // At the fixed point the two ranges of every shared channel agree (up to the tolerance of
      // the last sweep, which CLE did not apply).
      const std::vector<float> r1 = quant::output_channel_ranges(equalized, first);
      const std::vector<float> r2 = quant::input_channel_ranges(equalized, second);
      for (size_t c = 0; c < r1.size(); ++c) EXPECT_NEAR(r1[c] / r2[c], 1.0, 0.01) << first.label() << " channel " << c;
    }
  }
}

TEST(CrossLayerEqualization, ResidualBlockEqualizesInsideAndLeavesTheSkipAlone) {
  Model model = Model::from_graph(test::residual_test_graph(5, 2, 4, 8, 3));
  std::vector<std::string> skipped;
  const std::vector<quant::ScalablePair> pairs = quant::find_scalable_pairs(model.graph(), &skipped);
  ASSERT_EQ(pairs.size(), 1u);  // c1 -> ReLU -> c2 inside the block
  EXPECT_EQ(model.graph().nodes[pairs[0].first].name, "c1");
  EXPECT_EQ(model.graph().nodes[pairs[0].second].name, "c2");
  // c2 and the projection write into the Add; the Gemm writes the graph output.
  ASSERT_EQ(skipped.size(), 3u);
  size_t by_add = 0;
  for (const std::string& line : skipped) by_add += test::contains(line, "read by Add 'add'");
  EXPECT_EQ(by_add, 2u);
  quant::EqualizationReport report;
  equalize_and_check_function(model.graph(), {1, 2, 8, 8}, report);
  EXPECT_EQ(report.equalized.size(), 1u);
}

TEST(CrossLayerEqualization, SeveralReadersAnAddAndRelu6AreSkipped) {
  test::GraphBuilder b("skips", 3);
  b.input("x", {1, 2, 6, 6});
  b.conv("a", "x", "ao", 2, 4, 3, true, with(kPad1, kRelu));
  b.conv("b1", "ao", "b1o", 4, 4, 1, true);  // "ao" has two readers
  b.conv("b2", "ao", "b2o", 4, 4, 1, true);
  b.node("Add", "add", {"b1o", "b2o"}, {"s"});
  const test::Attrs relu6 = {{"activation", std::string("Clip")}, {"activation_min", 0.0f}, {"activation_max", 6.0f}};
  b.conv("c", "s", "co", 4, 4, 1, true, relu6);
  b.conv("d", "co", "y", 4, 3, 1, true);
  b.output("y");
  Graph graph = b.build();
  graph.infer_shapes();
  std::vector<std::string> skipped;
  EXPECT_TRUE(quant::find_scalable_pairs(graph, &skipped).empty());
  ASSERT_EQ(skipped.size(), 5u);
  OCTET_EXPECT_CONTAINS(skipped[0], "read by 2 nodes");
  OCTET_EXPECT_CONTAINS(skipped[3], "not positively homogeneous");
  OCTET_EXPECT_CONTAINS(skipped[4], "a graph output");
  Graph equalized = graph;
  quant::EqualizationOptions keep_relu6;
  keep_relu6.relax_relu6 = false;
  const quant::EqualizationReport report = quant::equalize_cross_layer(equalized, keep_relu6);
  EXPECT_TRUE(report.equalized.empty());
  EXPECT_TRUE(report.relaxed.empty());
  for (const auto& [name, tensor] : graph.initializers)
    EXPECT_EQ(0, std::memcmp(tensor.raw(), equalized.initializers.at(name).raw(), tensor.bytes())) << name;
}

// MobileNetV2's expand -> ReLU6 -> depthwise -> ReLU6 -> project chain. By default CLE relaxes
// both ReLU6 to ReLU and equalizes both pairs; the result must compute exactly what the
// ReLU-for-ReLU6 model computes (and differs from the original only where a value exceeded 6).
TEST(CrossLayerEqualization, Relu6IsRelaxedToReluAndTheChainEqualizes) {
  const test::Attrs relu6 = {{"activation", std::string("Clip")}, {"activation_min", 0.0f}, {"activation_max", 6.0f}};
  auto build = [&](const test::Attrs& act) {
    test::GraphBuilder b("inverted_residual", 11);
    b.input("x", {1, 4, 6, 6});
    b.conv("expand", "x", "eo", 4, 8, 1, true, act);
    b.conv("dw", "eo", "do", 8, 8, 3, true, with(kPad1, act), 8);
    b.conv("project", "do", "y", 8, 4, 1, true);
    b.output("y");
    Graph graph = b.build();
    std::mt19937 rng(5);
    for (const char* weight : {"expand.w", "dw.w"}) unbalance(graph, weight, rng);
    graph.infer_shapes();
    return graph;
  };
  const Graph with_relu6 = build(relu6);
  std::vector<std::string> skipped;
  EXPECT_TRUE(quant::find_scalable_pairs(with_relu6, &skipped).empty());
  EXPECT_EQ(quant::find_scalable_pairs(with_relu6, nullptr, true).size(), 2u);

  Graph equalized = with_relu6;
  const quant::EqualizationReport report = quant::equalize_cross_layer(equalized);
  ASSERT_EQ(report.equalized.size(), 2u);
  ASSERT_EQ(report.relaxed.size(), 2u);
  OCTET_EXPECT_CONTAINS(report.relaxed[0], "Clip [0, 6] -> Relu");
  for (const Node& node : equalized.nodes) {
    if (node.attrs.has("activation")) {
      EXPECT_EQ(node.attrs.get_float("activation_max", 0.0f), std::numeric_limits<float>::infinity()) << node.name;
    }
  }

  // Same function as the ReLU model: equalize the ReLU model (exact, checked inside) and compare.
  quant::EqualizationReport relu_report;
  const Graph relu_equalized = equalize_and_check_function(build(kRelu), {1, 4, 6, 6}, relu_report);
  Model a = Model::from_graph(relu_equalized, false), b = Model::from_graph(equalized, false);
  Session sa(a), sb(b);
  for (const Tensor& input : random_inputs({1, 4, 6, 6}, 3, 17)) {
    const Tensor ya = test::run_session(sa, {input})[0], yb = test::run_session(sb, {input})[0];
    for (int64_t i = 0; i < ya.elements(); ++i)
      EXPECT_NEAR(yb.data<float>()[i], ya.data<float>()[i], 1e-5 * std::max(1.0, std::fabs(double{ya.data<float>()[i]})));
  }
  // Each shared channel's ranges agree on both sides, as for ReLU, and the expand layer's
  // spread shrinks.
  for (const quant::ScalablePair& pair : quant::find_scalable_pairs(equalized)) {
    const std::vector<float> r1 = quant::output_channel_ranges(equalized, equalized.nodes[pair.first]);
    const std::vector<float> r2 = quant::input_channel_ranges(equalized, equalized.nodes[pair.second]);
    for (size_t c = 0; c < r1.size(); ++c) EXPECT_NEAR(r1[c] / r2[c], 1.0, 0.01) << pair.value << " channel " << c;
  }
  EXPECT_LT(max_over_min(quant::output_channel_ranges(equalized, equalized.nodes[0])),
            max_over_min(quant::output_channel_ranges(with_relu6, with_relu6.nodes[0])));
}

TEST(CrossLayerEqualization, ClipFromZeroToInfinityIsAReluAndADeadChannelKeepsScaleOne) {
  test::GraphBuilder b("dead", 4);
  b.input("x", {1, 2, 5, 5});
  const test::Attrs clip = {{"activation", std::string("Clip")}, {"activation_min", 0.0f},
                            {"activation_max", std::numeric_limits<float>::infinity()}};
  b.conv("a", "x", "ao", 2, 3, 3, true, with(kPad1, clip));
  b.conv("b", "ao", "y", 3, 2, 3, false, kPad1);
  b.output("y");
  Graph graph = b.build();
  float* w = graph.initializers.at("a.w").mutable_data<float>();
  std::fill(w + 36, w + 54, 0.0f);  // output channel 2 of a never fires
  graph.initializers.at("a.b").mutable_data<float>()[2] = 0.0f;
  graph.infer_shapes();
  quant::EqualizationReport report;
  const Graph equalized = equalize_and_check_function(graph, {1, 2, 5, 5}, report);
  ASSERT_EQ(report.equalized.size(), 1u);
  for (const auto& [name, tensor] : equalized.initializers) {
    for (int64_t i = 0; i < tensor.elements(); ++i) ASSERT_TRUE(std::isfinite(tensor.data<float>()[i])) << name;
  }
  // Channel 2 of b's input is untouched: nothing to balance it against.
  const Tensor& before = *graph.initializer("b.w");
  const Tensor& after = *equalized.initializer(equalized.nodes[1].inputs[1]);
  for (int64_t o = 0; o < 2; ++o)
    for (int64_t k = 0; k < 9; ++k)
      EXPECT_EQ(after.data<float>()[o * 27 + 18 + k], before.data<float>()[o * 27 + 18 + k]);
}

TEST(CrossLayerEqualization, SharedWeightsAreCopiedNotChangedUnderTheirOtherReader) {
  test::GraphBuilder b("shared", 6);
  b.input("x", {1, 3, 4, 4});
  b.conv("a", "x", "ao", 3, 3, 1, false, kRelu);
  b.conv("b", "ao", "bo", 3, 3, 1, false);
  b.node("Conv", "c", {"x", "b.w"}, {"co"});  // reads b's weights too
  b.node("Add", "add", {"bo", "co"}, {"y"});
  b.output("y");
  Graph graph = b.build();
  std::mt19937 rng(1);
  unbalance(graph, "a.w", rng);
  graph.infer_shapes();
  quant::EqualizationReport report;
  const Graph equalized = equalize_and_check_function(graph, {1, 3, 4, 4}, report);
  ASSERT_EQ(report.equalized.size(), 1u);
  EXPECT_EQ(test::find_node(equalized, "c")->inputs[1], "b.w");
  EXPECT_NE(test::find_node(equalized, "b")->inputs[1], "b.w");
  EXPECT_EQ(0, std::memcmp(graph.initializer("b.w")->raw(), equalized.initializer("b.w")->raw(),
                           graph.initializer("b.w")->bytes()));
}

TEST(CrossLayerEqualization, EqualizingACopyLeavesTheOriginalUnchanged) {
  // Graph copies share tensor storage: a second equalization of a copy (with its weights already
  // renamed by the first) must still write new tensors.
  Graph once = chain_graph(1, 21);
  quant::equalize_cross_layer(once);
  std::map<std::string, std::vector<float>> snapshot;
  for (const auto& [name, tensor] : once.initializers)
    snapshot[name].assign(tensor.data<float>(), tensor.data<float>() + tensor.elements());
  Graph twice = once;
  const std::vector<quant::ScalablePair> pairs = quant::find_scalable_pairs(twice);
  quant::scale_pair_channels(twice, pairs[0], std::vector<float>(static_cast<size_t>(pairs[0].channels), 3.0f));
  for (const auto& [name, tensor] : once.initializers)
    EXPECT_EQ(std::vector<float>(tensor.data<float>(), tensor.data<float>() + tensor.elements()), snapshot[name]) << name;
}

TEST(CrossLayerEqualization, ScalePairChannelsRejectsBadScales) {
  Graph graph = chain_graph(1, 3);
  const std::vector<quant::ScalablePair> pairs = quant::find_scalable_pairs(graph);
  ASSERT_FALSE(pairs.empty());
  OCTET_EXPECT_CONTAINS(test::error_message([&] { quant::scale_pair_channels(graph, pairs[0], {1.0f}); }),
                        "1 scales for the 8 channels of 'c1o'");
  std::vector<float> scales(8, 1.0f);
  scales[3] = 0.0f;
  OCTET_EXPECT_CONTAINS(test::error_message([&] { quant::scale_pair_channels(graph, pairs[0], scales); }),
                        "channel 3 of 'c1o' is not finite and positive");
  scales[3] = std::numeric_limits<float>::infinity();
  OCTET_EXPECT_CONTAINS(test::error_message([&] { quant::scale_pair_channels(graph, pairs[0], scales); }),
                        "not finite and positive");
  OCTET_EXPECT_CONTAINS(test::error_message([&] { quant::output_channel_ranges(graph, *test::find_node(graph, "gap")); }),
                        "GlobalAveragePool 'gap': no float Conv/Gemm weights");
}

// The bundled ResNet: six conv1 -> ReLU -> conv2 pairs inside its BasicBlocks; every other conv
// output feeds a residual Add (or two readers: the block input and the skip).
const std::string kModel = std::string(OCTET_SOURCE_DIR) + "/models/fashion_mnist_resnet.onnx";

std::vector<Tensor> fixture_images() {
  const data::NpyArray inputs = data::read_npy(std::string(OCTET_SOURCE_DIR) + "/tests/fixtures/resnet_input16.npy");
  std::vector<Tensor> images;
  for (int i = 0; i < 16; ++i) {
    Tensor image(DType::f32, {1, 1, 28, 28});
    std::copy(inputs.f32() + i * 784, inputs.f32() + (i + 1) * 784, image.mutable_data<float>());
    images.push_back(std::move(image));
  }
  return images;
}

void expect_same_logits(const Graph& a, const Graph& b) {
  Model ma = Model::from_graph(a, false), mb = Model::from_graph(b, false);
  Session sa(ma), sb(mb);
  for (const Tensor& image : fixture_images())
    test::expect_close(test::run_session(sb, {image})[0], test::run_session(sa, {image})[0], 1e-5, "logits");
}

TEST(CrossLayerEqualizationBundledResNet, SixBlockPairsEqualizeAndTheLogitsDoNotChange) {
  const Model model = Model::from_graph(import_onnx_file(kModel));
  Graph equalized = model.graph();
  const quant::EqualizationReport report = quant::equalize_cross_layer(equalized);
  ASSERT_EQ(report.equalized.size(), 6u);
  EXPECT_EQ(report.iterations, 2);  // the pairs share no layer: one sweep, one to confirm
  for (const std::string& pair : report.equalized) OCTET_EXPECT_CONTAINS(pair, "conv1");
  expect_same_logits(model.graph(), equalized);
  for (const quant::ScalablePair& pair : quant::find_scalable_pairs(model.graph())) {
    const Node& first = model.graph().nodes[pair.first];
    const double before = max_over_min(quant::output_channel_ranges(model.graph(), first));
    const double after = max_over_min(quant::output_channel_ranges(equalized, equalized.nodes[pair.first]));
    EXPECT_LT(after, before) << first.label();
  }
}

TEST(CrossLayerEqualizationBundledResNet, ChannelScaledModelHasTheSameFunctionAndCleUndoesTheSpread) {
  const Model model = Model::from_graph(import_onnx_file(kModel));
  size_t pairs = 0;
  const Graph scaled = test::channel_scaled_model(model.graph(), 100.0, &pairs);
  EXPECT_EQ(pairs, 6u);
  expect_same_logits(model.graph(), scaled);
  Graph equalized = scaled;
  quant::equalize_cross_layer(equalized);
  expect_same_logits(model.graph(), equalized);
  for (const quant::ScalablePair& pair : quant::find_scalable_pairs(model.graph())) {
    const double original = max_over_min(quant::output_channel_ranges(model.graph(), model.graph().nodes[pair.first]));
    const double spread = max_over_min(quant::output_channel_ranges(scaled, scaled.nodes[pair.first]));
    const double after = max_over_min(quant::output_channel_ranges(equalized, equalized.nodes[pair.first]));
    EXPECT_NEAR(spread, 100.0, 1e-3) << "the scaled layer's channel ranges are 100x apart";
    EXPECT_GT(max_over_min(quant::input_channel_ranges(scaled, scaled.nodes[pair.second])),
              10.0 * max_over_min(quant::input_channel_ranges(model.graph(), model.graph().nodes[pair.second])))
        << "and its reader's are unbalanced inversely";
    EXPECT_LT(after, original) << "CLE balances the scaled layer better than training did";
  }
}

}  // namespace
