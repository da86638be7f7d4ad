// Inference passes: BatchNorm folding, Identity/Dropout removal, activation fusion and the
// whole optimize_for_inference pipeline. Every rewrite is checked structurally and numerically
// (the ref backend runs the graph before and after).
#include <gtest/gtest.h>

#include <limits>

#include "engine/model.hpp"
#include "engine/session.hpp"
#include "graph/passes/passes.hpp"
#include "tests/graph/graph_builder.hpp"
#include "tests/graph/run_graph.hpp"

namespace octet {
namespace {

using test::Attrs;
using test::GraphBuilder;

std::vector<int64_t> ints(std::initializer_list<int64_t> values) { return values; }

std::vector<Tensor> run(Graph graph, bool optimize, const std::vector<Tensor>& inputs) {
  return test::run_graph(std::move(graph), optimize, inputs);
}

// Runs a graph the passes already rewrote (shapes re-inferred, no further optimization).
std::vector<Tensor> run_rewritten(Graph graph, const std::vector<Tensor>& inputs) {
  return run(std::move(graph), false, inputs);
}

size_t count_op(const Graph& graph, const std::string& op) {
  size_t count = 0;
  for (const auto& node : graph.nodes) count += node.op == op;
  return count;
}

// ---------------------------------------------------------------------------------------------
// fold_batchnorm

// x[2,3,7,6] -> Conv(3->5, 3x3, pad 1, stride 1) [-> bias] -> BatchNormalization -> y
GraphBuilder conv_bn(bool bias, uint32_t seed, const Attrs& conv_attrs = {{"pads", ints({1, 1, 1, 1})}},
                     int64_t group = 1, int64_t in_channels = 3, int64_t out_channels = 5) {
  GraphBuilder b("conv_bn", seed);
  b.input("x", {2, in_channels, 7, 6});
  b.conv("conv", "x", "c", in_channels, out_channels, 3, bias, conv_attrs, group);
  b.batchnorm("bn", "c", "y", out_channels, 1e-3f);
  b.output("y");
  return b;
}

void check_fold(bool bias, uint32_t seed, const Attrs& conv_attrs, int64_t group, int64_t in_channels,
                int64_t out_channels) {
  GraphBuilder b = conv_bn(bias, seed, conv_attrs, group, in_channels, out_channels);
  std::mt19937 rng(seed + 1);
  const std::vector<Tensor> inputs = {test::random_tensor({2, in_channels, 7, 6}, rng, -2.0f, 2.0f)};
  const std::vector<Tensor> before = run(b.build(), false, inputs);

  Graph folded = b.build();
  folded.infer_shapes();
  ASSERT_EQ(fold_batchnorm(folded), 1u);
  ASSERT_EQ(folded.nodes.size(), 1u);
  const Node& conv = folded.nodes[0];
  EXPECT_EQ(conv.op, "Conv");
  EXPECT_EQ(conv.outputs, std::vector<std::string>{"y"});  // graph output name kept
  ASSERT_EQ(conv.inputs.size(), 3u);
  EXPECT_EQ(conv.inputs[0], "x");
  ASSERT_TRUE(folded.is_initializer(conv.inputs[1]));
  ASSERT_TRUE(folded.is_initializer(conv.inputs[2]));
  EXPECT_EQ(folded.initializer(conv.inputs[1])->shape(), (Shape{out_channels, in_channels / group, 3, 3}));
  EXPECT_EQ(folded.initializer(conv.inputs[2])->shape(), (Shape{out_channels}));
  // BatchNorm parameters and the old weight are gone.
  for (const char* name : {"bn.scale", "bn.shift", "bn.mean", "bn.var", "conv.w", "conv.b"})
    EXPECT_FALSE(folded.is_initializer(name)) << name;
  EXPECT_EQ(folded.outputs, std::vector<std::string>{"y"});

  const std::vector<Tensor> after = run_rewritten(folded, inputs);
  ASSERT_EQ(after.size(), 1u);
  test::expect_close(after[0], before[0], 1e-5, "folded vs unfolded");

  // Model::from_graph with optimize=true folds too.
  Model optimized = Model::from_graph(b.build(), true);
  EXPECT_EQ(test::node_ops(optimized.graph()), std::vector<std::string>{"Conv"});
  test::expect_close(Session(optimized).run(inputs)[0], before[0], 1e-5, "optimized model");
}

TEST(PassFoldBatchNorm, ConvWithoutBias) { check_fold(false, 11, {{"pads", ints({1, 1, 1, 1})}}, 1, 3, 5); }

TEST(PassFoldBatchNorm, ConvWithBias) { check_fold(true, 12, {{"pads", ints({1, 1, 1, 1})}}, 1, 3, 5); }

TEST(PassFoldBatchNorm, StridedDepthwiseConv) {
  check_fold(true, 13, {{"strides", ints({2, 2})}, {"pads", ints({0, 1, 1, 0})}}, 4, 4, 8);
}

TEST(PassFoldBatchNorm, GroupedConvWithoutBias) {
  check_fold(false, 14, {{"dilations", ints({2, 1})}}, 2, 4, 6);
}

TEST(PassFoldBatchNorm, NotFoldedWhenConvOutputHasSecondConsumer) {
  GraphBuilder b = conv_bn(true, 21);
  b.node("Relu", "side", {"c"}, {"side_out"});
  b.output("side_out");
  Graph g = b.build();
  g.infer_shapes();
  EXPECT_EQ(fold_batchnorm(g), 0u);
  EXPECT_EQ(count_op(g, "BatchNormalization"), 1u);
  EXPECT_EQ(count_op(g, "Conv"), 1u);
  EXPECT_TRUE(g.is_initializer("bn.scale"));

  // The optimizing model agrees and still computes the same thing.
  std::mt19937 rng(22);
  const std::vector<Tensor> inputs = {test::random_tensor({2, 3, 7, 6}, rng)};
  Model optimized = Model::from_graph(b.build(), true);
  EXPECT_EQ(count_op(optimized.graph(), "BatchNormalization"), 1u);
  const auto expected = run(b.build(), false, inputs);
  Session optimized_session(optimized);
  const auto actual = test::run_session(optimized_session, inputs);
  ASSERT_EQ(actual.size(), 2u);
  test::expect_identical(actual[0], expected[0], "y");
  test::expect_identical(actual[1], expected[1], "side_out");
}

TEST(PassFoldBatchNorm, NotFoldedWhenConvOutputIsAGraphOutput) {
  GraphBuilder b = conv_bn(false, 23);
  b.output("c");
  Graph g = b.build();
  g.infer_shapes();
  EXPECT_EQ(fold_batchnorm(g), 0u);
  EXPECT_EQ(count_op(g, "BatchNormalization"), 1u);
}

TEST(PassFoldBatchNorm, NotFoldedWhenParametersAreRuntimeInputs) {
  GraphBuilder b("bn_runtime", 24);
  b.input("x", {1, 2, 4, 4});
  b.input("gamma", {2});
  b.conv("conv", "x", "c", 2, 2, 1, false);
  b.random_constant("bn.shift", {2});
  b.random_constant("bn.mean", {2});
  b.random_constant("bn.var", {2}, 0.5f, 1.0f);
  b.node("BatchNormalization", "bn", {"c", "gamma", "bn.shift", "bn.mean", "bn.var"}, {"y"});
  b.output("y");
  Graph g = b.build();
  g.infer_shapes();
  EXPECT_EQ(fold_batchnorm(g), 0u);
  EXPECT_EQ(g.nodes.size(), 2u);
}

TEST(PassFoldBatchNorm, NotFoldedAfterNonConvProducerOrFusedConv) {
  // BN directly on a graph input, and BN after a Relu: nothing to fold into.
  GraphBuilder b("bn_no_conv", 25);
  b.input("x", {1, 3, 4, 4});
  b.batchnorm("bn0", "x", "a", 3);
  b.node("Relu", "relu", {"a"}, {"r"});
  b.batchnorm("bn1", "r", "y", 3);
  b.output("y");
  Graph g = b.build();
  g.infer_shapes();
  EXPECT_EQ(fold_batchnorm(g), 0u);
  EXPECT_EQ(g.nodes.size(), 3u);

  // A Conv that already carries a fused activation must not absorb a BN after the clamp.
  GraphBuilder f = conv_bn(true, 26);
  f.graph().nodes[0].attrs.set("activation", std::string("Relu"));
  f.graph().nodes[0].attrs.set("activation_min", 0.0f);
  f.graph().nodes[0].attrs.set("activation_max", std::numeric_limits<float>::infinity());
  Graph fused = f.build();
  fused.infer_shapes();
  EXPECT_EQ(fold_batchnorm(fused), 0u);
}

TEST(PassFoldBatchNorm, TwoConvBnPairsInSequence) {
  GraphBuilder b("two_pairs", 27);
  b.input("x", {1, 3, 8, 8});
  b.conv("conv1", "x", "c1", 3, 4, 3, false, {{"pads", ints({1, 1, 1, 1})}});
  b.batchnorm("bn1", "c1", "b1", 4);
  b.node("Relu", "relu1", {"b1"}, {"r1"});
  b.conv("conv2", "r1", "c2", 4, 6, 3, true, {{"strides", ints({2, 2})}});
  b.batchnorm("bn2", "c2", "y", 6);
  b.output("y");
  std::mt19937 rng(28);
  const std::vector<Tensor> inputs = {test::random_tensor({1, 3, 8, 8}, rng)};
  const auto before = run(b.build(), false, inputs);
  Graph g = b.build();
  g.infer_shapes();
  EXPECT_EQ(fold_batchnorm(g), 2u);
  EXPECT_EQ(test::node_ops(g), (std::vector<std::string>{"Conv", "Relu", "Conv"}));
  test::expect_close(run_rewritten(g, inputs)[0], before[0], 1e-5);
}

TEST(PassFoldBatchNorm, ConvNodesWithTheSameNameFoldIndependently) {
  // Node names are for diagnostics and validate() does not require them to be unique; two Conv
  // nodes sharing a name (or both unnamed) must still get their own folded weights.
  GraphBuilder b("same_names", 29);
  b.input("x", {1, 2, 5, 5});
  b.conv("conv", "x", "c1", 2, 2, 3, false, {{"pads", ints({1, 1, 1, 1})}});
  b.batchnorm("bn1", "c1", "b1", 2);
  b.random_constant("conv2.w", {2, 2, 1, 1});
  b.node("Conv", "conv", {"b1", "conv2.w"}, {"c2"});
  b.batchnorm("bn2", "c2", "y", 2);
  b.output("y");
  std::mt19937 rng(30);
  const std::vector<Tensor> inputs = {test::random_tensor({1, 2, 5, 5}, rng)};
  const auto before = run(b.build(), false, inputs);
  Graph g = b.build();
  g.infer_shapes();
  EXPECT_EQ(fold_batchnorm(g), 2u);
  ASSERT_EQ(g.nodes.size(), 2u);
  // Regression: folded initializers were once named after the Conv node, so the second fold
  // overwrote the first one's weight.
  EXPECT_NE(g.nodes[0].inputs[1], g.nodes[1].inputs[1]);
  EXPECT_NE(g.nodes[0].inputs[2], g.nodes[1].inputs[2]);
  test::expect_close(run_rewritten(g, inputs)[0], before[0], 1e-5);
}

// ---------------------------------------------------------------------------------------------
// remove_identity

TEST(PassRemoveIdentity, MiddleAndGraphOutput) {
  GraphBuilder b("identities", 31);
  b.input("x", {1, 2, 5, 5});
  b.conv("conv", "x", "c", 2, 3, 3, true);
  b.node("Identity", "id_mid", {"c"}, {"c_id"});
  b.node("Relu", "relu", {"c_id"}, {"r"});
  b.node("Dropout", "drop_out", {"r"}, {"y"}, {{"ratio", 0.5f}});
  b.output("y");
  std::mt19937 rng(32);
  const std::vector<Tensor> inputs = {test::random_tensor({1, 2, 5, 5}, rng)};
  const auto before = run(b.build(), false, inputs);

  Graph g = b.build();
  g.infer_shapes();
  EXPECT_EQ(remove_identity(g), 2u);
  EXPECT_EQ(test::node_ops(g), (std::vector<std::string>{"Conv", "Relu"}));
  EXPECT_EQ(g.outputs, std::vector<std::string>{"y"});
  EXPECT_EQ(g.nodes[1].inputs, std::vector<std::string>{"c"});   // Relu reads the Conv directly
  EXPECT_EQ(g.nodes[1].outputs, std::vector<std::string>{"y"});  // and writes the output name
  EXPECT_EQ(g.producer("y"), 1);
  EXPECT_EQ(g.values.count("c_id"), 0u);
  EXPECT_EQ(g.values.count("r"), 0u);
  ASSERT_NO_THROW(g.validate());
  test::expect_identical(run_rewritten(g, inputs)[0], before[0]);
}

TEST(PassRemoveIdentity, IdentityOnGraphInputFeedingANode) {
  GraphBuilder b;
  b.input("x", {2, 3});
  b.node("Identity", "id", {"x"}, {"x2"});
  b.node("Relu", "relu", {"x2"}, {"y"});
  b.output("y");
  Graph g = b.build();
  g.infer_shapes();
  EXPECT_EQ(remove_identity(g), 1u);
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(g.nodes[0].inputs, std::vector<std::string>{"x"});
}

TEST(PassRemoveIdentity, IdentityFromInputOrInitializerToOutputStays) {
  // Removing it would lose the graph output name: nothing produces it any more.
  GraphBuilder b;
  b.input("x", {2, 3});
  b.constant("c", test::float_tensor({2}, {1.0f, 2.0f}));
  b.node("Identity", "id_x", {"x"}, {"y"});
  b.node("Identity", "id_c", {"c"}, {"z"});
  b.output("y");
  b.output("z");
  Graph g = b.build();
  g.infer_shapes();
  EXPECT_EQ(remove_identity(g), 0u);
  EXPECT_EQ(g.nodes.size(), 2u);
  std::mt19937 rng(33);
  const std::vector<Tensor> inputs = {test::random_tensor({2, 3}, rng)};
  const auto out = run(b.build(), true, inputs);
  ASSERT_EQ(out.size(), 2u);
  test::expect_identical(out[0], inputs[0]);
  test::expect_identical(out[1], test::float_tensor({2}, {1.0f, 2.0f}));
}

TEST(PassRemoveIdentity, IdentityBetweenTwoGraphOutputsStays) {
  GraphBuilder b;
  b.input("x", {2, 3});
  b.node("Relu", "relu", {"x"}, {"r"});
  b.node("Identity", "id", {"r"}, {"y"});
  b.output("r");
  b.output("y");
  Graph g = b.build();
  g.infer_shapes();
  EXPECT_EQ(remove_identity(g), 0u);
  EXPECT_EQ(g.outputs, (std::vector<std::string>{"r", "y"}));
}

TEST(PassRemoveIdentity, OutputIdentityWhoseInputHasOtherConsumers) {
  GraphBuilder b("shared", 34);
  b.input("x", {1, 4});
  b.node("Relu", "relu", {"x"}, {"r"});
  b.node("Identity", "id", {"r"}, {"y"});
  b.node("Add", "add", {"r", "x"}, {"z"});
  b.output("y");
  b.output("z");
  std::mt19937 rng(35);
  const std::vector<Tensor> inputs = {test::random_tensor({1, 4}, rng)};
  const auto before = run(b.build(), false, inputs);
  Graph g = b.build();
  g.infer_shapes();
  EXPECT_EQ(remove_identity(g), 1u);
  EXPECT_EQ(test::node_ops(g), (std::vector<std::string>{"Relu", "Add"}));
  EXPECT_EQ(g.outputs, (std::vector<std::string>{"y", "z"}));
  const auto after = run_rewritten(g, inputs);
  test::expect_identical(after[0], before[0], "y");
  test::expect_identical(after[1], before[1], "z");
}

TEST(PassRemoveIdentity, ChainOfIdentities) {
  GraphBuilder b;
  b.input("x", {3});
  b.node("Relu", "relu", {"x"}, {"a"});
  b.node("Identity", "i1", {"a"}, {"b"});
  b.node("Dropout", "i2", {"b"}, {"c"});
  b.node("Identity", "i3", {"c"}, {"y"});
  b.output("y");
  const std::vector<Tensor> inputs = {test::float_tensor({3}, {-1.0f, 0.5f, 2.0f})};
  Graph g = b.build();
  g.infer_shapes();
  EXPECT_EQ(remove_identity(g), 3u);
  EXPECT_EQ(test::node_ops(g), std::vector<std::string>{"Relu"});
  EXPECT_EQ(g.nodes[0].outputs, std::vector<std::string>{"y"});
  test::expect_identical(run_rewritten(g, inputs)[0], test::float_tensor({3}, {0.0f, 0.5f, 2.0f}));
}

// ---------------------------------------------------------------------------------------------
// fuse_activation

TEST(PassFuseActivation, ConvRelu) {
  GraphBuilder b("conv_relu", 41);
  b.input("x", {2, 3, 6, 6});
  b.conv("conv", "x", "c", 3, 4, 3, true, {{"pads", ints({1, 1, 1, 1})}});
  b.node("Relu", "relu", {"c"}, {"y"});
  b.output("y");
  std::mt19937 rng(42);
  const std::vector<Tensor> inputs = {test::random_tensor({2, 3, 6, 6}, rng)};
  const auto before = run(b.build(), false, inputs);

  Graph g = b.build();
  g.infer_shapes();
  const size_t nodes_before = g.nodes.size();
  EXPECT_EQ(fuse_activation(g), 1u);
  EXPECT_EQ(g.nodes.size(), nodes_before - 1);
  ASSERT_EQ(g.nodes.size(), 1u);
  const Node& conv = g.nodes[0];
  EXPECT_EQ(conv.op, "Conv");
  EXPECT_EQ(conv.attrs.get_string("activation", ""), "Relu");
  EXPECT_EQ(conv.attrs.get_float("activation_min", -1.0f), 0.0f);
  EXPECT_EQ(conv.attrs.get_float("activation_max", 0.0f), std::numeric_limits<float>::infinity());
  EXPECT_EQ(conv.outputs, std::vector<std::string>{"y"});
  EXPECT_EQ(g.values.count("c"), 0u);
  const auto after = run_rewritten(g, inputs);
  test::expect_identical(after[0], before[0]);
  // The fixture really exercises the clamp: some outputs were negative before the Relu.
  Graph conv_only = b.build();
  conv_only.nodes.pop_back();
  conv_only.outputs = {"c"};
  const auto raw = run(conv_only, false, inputs);
  int negatives = 0;
  for (int64_t i = 0; i < raw[0].elements(); ++i) negatives += raw[0].data<float>()[i] < 0.0f;
  EXPECT_GT(negatives, 0);
}

GraphBuilder gemm_clip(uint32_t seed, bool min_constant = true) {
  GraphBuilder b("gemm_clip", seed);
  b.input("x", {3, 8});
  b.random_constant("fc.w", {5, 8});
  b.random_constant("fc.b", {5});
  b.node("Gemm", "fc", {"x", "fc.w", "fc.b"}, {"g"}, {{"transB", int64_t{1}}});
  if (min_constant) b.constant("lo", test::scalar_tensor(-0.25f));
  else b.input("lo", {});
  b.constant("hi", test::scalar_tensor(0.3f));
  b.node("Clip", "clip", {"g", "lo", "hi"}, {"y"});
  b.output("y");
  return b;
}

TEST(PassFuseActivation, GemmClipWithConstantBounds) {
  GraphBuilder b = gemm_clip(43);
  std::mt19937 rng(44);
  const std::vector<Tensor> inputs = {test::random_tensor({3, 8}, rng, -2.0f, 2.0f)};
  const auto before = run(b.build(), false, inputs);

  Graph g = b.build();
  g.infer_shapes();
  EXPECT_EQ(fuse_activation(g), 1u);
  ASSERT_EQ(g.nodes.size(), 1u);
  const Node& gemm = g.nodes[0];
  EXPECT_EQ(gemm.op, "Gemm");
  EXPECT_EQ(gemm.attrs.get_string("activation", ""), "Clip");
  EXPECT_EQ(gemm.attrs.get_float("activation_min", 0.0f), -0.25f);
  EXPECT_EQ(gemm.attrs.get_float("activation_max", 0.0f), 0.3f);
  EXPECT_EQ(gemm.outputs, std::vector<std::string>{"y"});
  // The bound constants are no longer used.
  EXPECT_FALSE(g.is_initializer("lo"));
  EXPECT_FALSE(g.is_initializer("hi"));
  const auto after = run_rewritten(g, inputs);
  test::expect_identical(after[0], before[0]);
  // Both bounds are active on this input.
  bool saw_low = false, saw_high = false;
  for (int64_t i = 0; i < after[0].elements(); ++i) {
    saw_low = saw_low || after[0].data<float>()[i] == -0.25f;
    saw_high = saw_high || after[0].data<float>()[i] == 0.3f;
  }
  EXPECT_TRUE(saw_low);
  EXPECT_TRUE(saw_high);
}

TEST(PassFuseActivation, ClipWithAttributeBoundsAndOmittedInputs) {
  // Opset-6 style attributes.
  GraphBuilder b("clip_attr", 45);
  b.input("x", {1, 2, 4, 4});
  b.conv("conv", "x", "c", 2, 2, 1, false);
  b.node("Clip", "relu6", {"c"}, {"y"}, {{"min", 0.0f}, {"max", 6.0f}});
  b.output("y");
  Graph g = b.build();
  g.infer_shapes();
  EXPECT_EQ(fuse_activation(g), 1u);
  EXPECT_EQ(g.nodes[0].attrs.get_float("activation_min", -1.0f), 0.0f);
  EXPECT_EQ(g.nodes[0].attrs.get_float("activation_max", -1.0f), 6.0f);

  // Only a max input: min stays unbounded.
  GraphBuilder m("clip_max_only", 46);
  m.input("x", {2, 4});
  m.random_constant("w", {4, 3});
  m.node("Gemm", "fc", {"x", "w"}, {"g"});
  m.constant("hi", test::scalar_tensor(0.1f));
  m.node("Clip", "clip", {"g", "", "hi"}, {"y"});
  m.output("y");
  std::mt19937 rng(47);
  const std::vector<Tensor> inputs = {test::random_tensor({2, 4}, rng)};
  const auto before = run(m.build(), false, inputs);
  Graph mg = m.build();
  mg.infer_shapes();
  EXPECT_EQ(fuse_activation(mg), 1u);
  EXPECT_EQ(mg.nodes[0].attrs.get_float("activation_min", 0.0f), -std::numeric_limits<float>::infinity());
  EXPECT_EQ(mg.nodes[0].attrs.get_float("activation_max", 0.0f), 0.1f);
  test::expect_identical(run_rewritten(mg, inputs)[0], before[0]);
}

TEST(PassFuseActivation, ClipWithNonConstantBoundIsNotFused) {
  // Shape inference refuses runtime Clip bounds, so apply the pass to the raw graph.
  GraphBuilder b = gemm_clip(48, /*min_constant=*/false);
  Graph g = b.build();
  ASSERT_NO_THROW(g.validate());
  EXPECT_EQ(fuse_activation(g), 0u);
  EXPECT_EQ(test::node_ops(g), (std::vector<std::string>{"Gemm", "Clip"}));
  EXPECT_FALSE(g.nodes[0].attrs.has("activation"));

  // A constant bound that is not a scalar is not fused either.
  GraphBuilder v = gemm_clip(49);
  v.constant("lo", test::float_tensor({2}, {-1.0f, -2.0f}));
  Graph vg = v.build();
  EXPECT_EQ(fuse_activation(vg), 0u);
  EXPECT_EQ(vg.nodes.size(), 2u);
}

TEST(PassFuseActivation, NotFusedWhenProducerOutputIsSharedOrNotFusable) {
  GraphBuilder b("shared", 50);
  b.input("x", {1, 2, 4, 4});
  b.conv("conv", "x", "c", 2, 2, 1, false);
  b.node("Relu", "relu", {"c"}, {"y"});
  b.node("Add", "add", {"c", "x"}, {"z"});
  b.output("y");
  b.output("z");
  Graph g = b.build();
  g.infer_shapes();
  EXPECT_EQ(fuse_activation(g), 0u);
  EXPECT_EQ(g.nodes.size(), 3u);

  GraphBuilder o("conv_output", 51);
  o.input("x", {1, 2, 4, 4});
  o.conv("conv", "x", "c", 2, 2, 1, false);
  o.node("Relu", "relu", {"c"}, {"y"});
  o.output("c");
  o.output("y");
  Graph og = o.build();
  og.infer_shapes();
  EXPECT_EQ(fuse_activation(og), 0u);

  GraphBuilder a("pool_relu", 52);
  a.input("x", {1, 2, 4, 4});
  a.node("MaxPool", "pool", {"x"}, {"p"}, {{"kernel_shape", ints({2, 2})}});
  a.node("Relu", "relu", {"p"}, {"y"});
  a.node("Relu", "relu_on_input", {"x"}, {"z"});
  a.output("y");
  a.output("z");
  Graph ag = a.build();
  ag.infer_shapes();
  EXPECT_EQ(fuse_activation(ag), 0u);
  EXPECT_EQ(ag.nodes.size(), 3u);
}

TEST(PassFuseActivation, AddRelu) {
  // The residual join: Add then Relu becomes one Add with a fused Relu.
  GraphBuilder a("add_relu", 55);
  a.input("x", {2, 4});
  a.random_constant("w", {4});
  a.node("Add", "add", {"x", "w"}, {"s"});
  a.node("Relu", "relu", {"s"}, {"y"});
  a.output("y");
  std::mt19937 rng(56);
  const std::vector<Tensor> inputs = {test::random_tensor({2, 4}, rng)};
  const auto before = run(a.build(), false, inputs);
  Graph ag = a.build();
  ag.infer_shapes();
  EXPECT_EQ(fuse_activation(ag), 1u);
  ASSERT_EQ(test::node_ops(ag), std::vector<std::string>{"Add"});
  EXPECT_EQ(ag.nodes[0].attrs.get_string("activation", ""), "Relu");
  EXPECT_EQ(ag.nodes[0].outputs, std::vector<std::string>{"y"});
  test::expect_identical(run_rewritten(ag, inputs)[0], before[0]);
}

TEST(PassFuseActivation, OnlyOneActivationPerProducer) {
  GraphBuilder b("double", 53);
  b.input("x", {1, 2, 4, 4});
  b.conv("conv", "x", "c", 2, 2, 1, false);
  b.node("Relu", "relu", {"c"}, {"r"});
  b.constant("hi", test::scalar_tensor(0.2f));
  b.node("Clip", "clip", {"r", "", "hi"}, {"y"});
  b.output("y");
  std::mt19937 rng(54);
  const std::vector<Tensor> inputs = {test::random_tensor({1, 2, 4, 4}, rng)};
  const auto before = run(b.build(), false, inputs);
  Graph g = b.build();
  g.infer_shapes();
  EXPECT_EQ(fuse_activation(g), 1u);
  EXPECT_EQ(test::node_ops(g), (std::vector<std::string>{"Conv", "Clip"}));
  EXPECT_EQ(g.nodes[0].attrs.get_string("activation", ""), "Relu");
  test::expect_identical(run_rewritten(g, inputs)[0], before[0]);
}

// ---------------------------------------------------------------------------------------------
// optimize_for_inference

// x -> Conv-BN-Relu -> Conv-BN -> Add(x) -> Relu -> y, with an Identity thrown in.
GraphBuilder residual_block(uint32_t seed) {
  GraphBuilder b("residual", seed);
  b.input("x", {2, 4, 6, 6});
  b.conv("conv1", "x", "c1", 4, 4, 3, false, {{"pads", ints({1, 1, 1, 1})}});
  b.batchnorm("bn1", "c1", "b1", 4);
  b.node("Relu", "relu1", {"b1"}, {"r1"});
  b.node("Identity", "id", {"r1"}, {"r1_id"});
  b.conv("conv2", "r1_id", "c2", 4, 4, 3, true, {{"pads", ints({1, 1, 1, 1})}});
  b.batchnorm("bn2", "c2", "b2", 4);
  b.node("Add", "skip", {"b2", "x"}, {"sum"});
  b.node("Relu", "relu2", {"sum"}, {"y"});
  b.output("y");
  return b;
}

TEST(PassOptimizeForInference, ResidualBlock) {
  GraphBuilder b = residual_block(61);
  std::mt19937 rng(62);
  const std::vector<Tensor> inputs = {test::random_tensor({2, 4, 6, 6}, rng, -2.0f, 2.0f)};
  const auto before = run(b.build(), false, inputs);

  Graph g = b.build();
  optimize_for_inference(g);
  EXPECT_EQ(test::node_ops(g), (std::vector<std::string>{"Conv", "Conv", "Add"}));
  EXPECT_EQ(g.nodes[0].attrs.get_string("activation", ""), "Relu");
  EXPECT_FALSE(g.nodes[1].attrs.has("activation"));
  EXPECT_EQ(g.nodes[2].attrs.get_string("activation", ""), "Relu");  // the final Relu joins the Add
  EXPECT_EQ(g.nodes[2].outputs, std::vector<std::string>{"y"});
  EXPECT_EQ(g.nodes[1].inputs[0], g.nodes[0].outputs[0]);
  EXPECT_EQ(g.outputs, std::vector<std::string>{"y"});
  for (const auto& entry : g.initializers)
    EXPECT_EQ(entry.first.rfind("bn", 0), std::string::npos) << "leftover BN parameter " << entry.first;
  EXPECT_EQ(g.initializers.size(), 4u);  // two folded weights, two folded biases
  // Shapes were re-inferred for every value.
  for (const auto& node : g.nodes)
    for (const auto& output : node.outputs) EXPECT_NO_THROW(g.value_info(output)) << output;
  EXPECT_EQ(g.value_info("y").shape, (Shape{2, 4, 6, 6}));

  const auto after = run_rewritten(g, inputs);
  test::expect_close(after[0], before[0], 1e-5, "optimized residual block");
  // The model entry point does the same.
  Model model = Model::from_graph(b.build());
  EXPECT_EQ(model.graph().nodes.size(), 3u);
  test::expect_close(Session(model).run(inputs)[0], before[0], 1e-5);
}

TEST(PassOptimizeForInference, RejectsMalformedGraphBeforeRewriting) {
  GraphBuilder b = residual_block(63);
  b.graph().nodes[2].inputs[0] = "nothing";
  Graph g = b.build();
  const std::string message = test::error_message([&] { optimize_for_inference(g); });
  OCTET_EXPECT_CONTAINS(message, "'nothing'");
  OCTET_EXPECT_CONTAINS(message, "'relu1'");
}

TEST(PassOptimizeForInference, IsIdempotent) {
  Graph g = residual_block(64).build();
  optimize_for_inference(g);
  const auto ops = test::node_ops(g);
  const auto names = test::node_names(g);
  Graph again = g;
  optimize_for_inference(again);
  EXPECT_EQ(test::node_ops(again), ops);
  EXPECT_EQ(test::node_names(again), names);
}

}  // namespace
}  // namespace octet
