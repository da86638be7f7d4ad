// Graph::validate(): structural checks (dangling edges, cycles, duplicate definitions, missing
// outputs) and topological reordering; plus the small Graph queries the passes rely on.
#include <gtest/gtest.h>

#include "graph/graph.hpp"
#include "tests/graph/graph_builder.hpp"

namespace octet {
namespace {

using test::GraphBuilder;
using test::error_message;

// x -> Relu(a) -> Relu(b) -> y
GraphBuilder chain() {
  GraphBuilder b;
  b.input("x", {1, 4});
  b.node("Relu", "first", {"x"}, {"a"});
  b.node("Relu", "second", {"a"}, {"y"});
  b.output("y");
  return b;
}

TEST(GraphValidate, ValidChainPasses) {
  Graph g = chain().build();
  EXPECT_NO_THROW(g.validate());
  EXPECT_EQ(test::node_names(g), (std::vector<std::string>{"first", "second"}));
}

TEST(GraphValidate, DanglingEdgeNamesNodeAndValue) {
  GraphBuilder b;
  b.input("x", {1, 4});
  b.node("Relu", "first", {"x"}, {"a"});
  b.node("Add", "adder", {"a", "ghost_value"}, {"y"});
  b.output("y");
  Graph g = b.build();
  const std::string message = error_message([&] { g.validate(); });
  OCTET_EXPECT_CONTAINS(message, "Add 'adder'");
  OCTET_EXPECT_CONTAINS(message, "'ghost_value'");
  OCTET_EXPECT_CONTAINS(message, "dangling");
}

TEST(GraphValidate, TwoNodeCycleIsReported) {
  GraphBuilder b;
  b.input("x", {1, 4});
  b.node("Add", "left", {"x", "right_out"}, {"left_out"});
  b.node("Relu", "right", {"left_out"}, {"right_out"});
  b.node("Relu", "tail", {"left_out"}, {"y"});
  b.output("y");
  Graph g = b.build();
  const std::string message = error_message([&] { g.validate(); });
  OCTET_EXPECT_CONTAINS(message, "cycle");
  OCTET_EXPECT_CONTAINS(message, "'left'");
  OCTET_EXPECT_CONTAINS(message, "'right'");
}

TEST(GraphValidate, LongerCycleIsReported) {
  GraphBuilder b;
  b.input("x", {1, 4});
  b.node("Add", "n0", {"x", "v2"}, {"v0"});
  b.node("Relu", "n1", {"v0"}, {"v1"});
  b.node("Relu", "n2", {"v1"}, {"v2"});
  b.output("v2");
  Graph g = b.build();
  OCTET_EXPECT_CONTAINS(error_message([&] { g.validate(); }), "cycle");
}

TEST(GraphValidate, NodeReadingItsOwnOutputIsACycle) {
  GraphBuilder b;
  b.input("x", {1, 4});
  b.node("Add", "selfish", {"x", "loop"}, {"loop"});
  b.output("loop");
  Graph g = b.build();
  const std::string message = error_message([&] { g.validate(); });
  OCTET_EXPECT_CONTAINS(message, "cycle");
  OCTET_EXPECT_CONTAINS(message, "Add 'selfish'");
  OCTET_EXPECT_CONTAINS(message, "'loop'");
}

TEST(GraphValidate, DuplicateOutputNamesAreRejected) {
  GraphBuilder b;
  b.input("x", {1, 4});
  b.node("Relu", "first", {"x"}, {"t"});
  b.node("Relu", "second", {"x"}, {"t"});
  b.output("t");
  Graph g = b.build();
  const std::string message = error_message([&] { g.validate(); });
  OCTET_EXPECT_CONTAINS(message, "'second'");
  OCTET_EXPECT_CONTAINS(message, "'t'");
  OCTET_EXPECT_CONTAINS(message, "already defined");
}

TEST(GraphValidate, NodeOutputShadowingAGraphInputIsRejected) {
  GraphBuilder b;
  b.input("x", {1, 4});
  b.node("Relu", "overwriter", {"x"}, {"x"});
  b.output("x");
  Graph g = b.build();
  const std::string message = error_message([&] { g.validate(); });
  OCTET_EXPECT_CONTAINS(message, "'overwriter'");
  OCTET_EXPECT_CONTAINS(message, "'x'");
}

TEST(GraphValidate, NodeOutputShadowingAnInitializerIsRejected) {
  GraphBuilder b;
  b.input("x", {1, 4});
  b.constant("w", test::float_tensor({1, 4}, {1, 2, 3, 4}));
  b.node("Relu", "overwriter", {"x"}, {"w"});
  b.output("w");
  Graph g = b.build();
  OCTET_EXPECT_CONTAINS(error_message([&] { g.validate(); }), "'w'");
}

TEST(GraphValidate, DuplicateGraphInputIsRejected) {
  GraphBuilder b;
  b.input("x", {1, 4});
  b.input("x", {1, 4});
  b.node("Relu", "r", {"x"}, {"y"});
  b.output("y");
  Graph g = b.build();
  OCTET_EXPECT_CONTAINS(error_message([&] { g.validate(); }), "'x'");
}

TEST(GraphValidate, OutputNeverProducedIsReported) {
  GraphBuilder b = chain();
  b.output("nowhere");
  Graph g = b.build();
  const std::string message = error_message([&] { g.validate(); });
  OCTET_EXPECT_CONTAINS(message, "'nowhere'");
  OCTET_EXPECT_CONTAINS(message, "never produced");
}

TEST(GraphValidate, NodeWithoutOutputIsRejected) {
  GraphBuilder b = chain();
  b.node("Relu", "mute", {"x"}, {});
  Graph g = b.build();
  OCTET_EXPECT_CONTAINS(error_message([&] { g.validate(); }), "'mute'");
}

TEST(GraphValidate, GraphInputAndInitializerMayBeOutputs) {
  GraphBuilder b;
  b.input("x", {1, 4});
  b.constant("c", test::float_tensor({1}, {1.0f}));
  b.output("x");
  b.output("c");
  Graph g = b.build();
  EXPECT_NO_THROW(g.validate());
}

TEST(GraphValidate, OmittedOptionalInputsAreIgnored) {
  GraphBuilder b;
  b.input("x", {1, 4});
  b.node("Clip", "clip", {"x", "", ""}, {"y"});
  b.output("y");
  Graph g = b.build();
  EXPECT_NO_THROW(g.validate());
}

TEST(GraphValidate, ReversedChainIsReorderedTopologically) {
  GraphBuilder b;
  b.input("x", {1, 4});
  b.node("Relu", "n3", {"c"}, {"y"});
  b.node("Relu", "n2", {"b"}, {"c"});
  b.node("Relu", "n1", {"a"}, {"b"});
  b.node("Relu", "n0", {"x"}, {"a"});
  b.output("y");
  Graph g = b.build();
  ASSERT_NO_THROW(g.validate());
  EXPECT_EQ(test::node_names(g), (std::vector<std::string>{"n0", "n1", "n2", "n3"}));
  // Nothing else about the nodes changed.
  EXPECT_EQ(g.nodes[0].inputs, std::vector<std::string>{"x"});
  EXPECT_EQ(g.nodes[3].outputs, std::vector<std::string>{"y"});
}

// A diamond: every node ordering below is a valid topological order, and validate() must keep
// whichever one it was given.
TEST(GraphValidate, ValidOrderIsLeftUnchanged) {
  const std::vector<std::vector<std::string>> orders = {
      {"stem", "left", "right", "join"}, {"stem", "right", "left", "join"}};
  for (const auto& order : orders) {
    GraphBuilder b;
    b.input("x", {1, 4});
    for (const auto& name : order) {
      if (name == "stem") b.node("Relu", "stem", {"x"}, {"s"});
      if (name == "left") b.node("Relu", "left", {"s"}, {"l"});
      if (name == "right") b.node("Clip", "right", {"s"}, {"r"});
      if (name == "join") b.node("Add", "join", {"l", "r"}, {"y"});
    }
    b.output("y");
    Graph g = b.build();
    ASSERT_NO_THROW(g.validate());
    EXPECT_EQ(test::node_names(g), order);
    ASSERT_NO_THROW(g.validate());  // idempotent
    EXPECT_EQ(test::node_names(g), order);
  }
}

TEST(GraphValidate, PartiallyShuffledDiamondKeepsRelativeOrderOfReadyNodes) {
  GraphBuilder b;
  b.input("x", {1, 4});
  b.node("Add", "join", {"l", "r"}, {"y"});
  b.node("Clip", "right", {"s"}, {"r"});
  b.node("Relu", "left", {"s"}, {"l"});
  b.node("Relu", "stem", {"x"}, {"s"});
  b.output("y");
  Graph g = b.build();
  ASSERT_NO_THROW(g.validate());
  const auto names = test::node_names(g);
  ASSERT_EQ(names.size(), 4u);
  EXPECT_EQ(names.front(), "stem");
  EXPECT_EQ(names.back(), "join");
  // right came before left in the input, and both become ready together.
  EXPECT_EQ(names[1], "right");
  EXPECT_EQ(names[2], "left");
  // Every input is defined before it is read.
  for (size_t i = 0; i < g.nodes.size(); ++i)
    for (const auto& input : g.nodes[i].inputs) EXPECT_LT(g.producer(input), static_cast<int>(i));
}

TEST(GraphQueries, ProducerConsumersAndOutputs) {
  GraphBuilder b;
  b.input("x", {1, 4});
  b.constant("c", test::float_tensor({1}, {2.0f}));
  b.node("Relu", "stem", {"x"}, {"s"});
  b.node("Add", "a1", {"s", "c"}, {"p"});
  b.node("Add", "a2", {"s", "p"}, {"y"});
  b.output("y");
  Graph g = b.build();
  g.validate();
  EXPECT_EQ(g.producer("x"), -1);
  EXPECT_EQ(g.producer("c"), -1);
  EXPECT_EQ(g.producer("s"), 0);
  EXPECT_EQ(g.producer("y"), 2);
  EXPECT_EQ(g.consumers("s"), (std::vector<size_t>{1, 2}));
  EXPECT_EQ(g.consumers("y"), std::vector<size_t>{});
  EXPECT_TRUE(g.is_graph_output("y"));
  EXPECT_FALSE(g.is_graph_output("s"));
  EXPECT_TRUE(g.is_initializer("c"));
  EXPECT_FALSE(g.is_initializer("x"));
  ASSERT_NE(g.initializer("c"), nullptr);
  EXPECT_EQ(g.initializer("c")->data<float>()[0], 2.0f);
  EXPECT_EQ(g.initializer("x"), nullptr);
  OCTET_EXPECT_CONTAINS(error_message([&] { g.value_info("unknown_value"); }), "'unknown_value'");
}

TEST(GraphQueries, RemoveUnusedDropsOrphans) {
  GraphBuilder b;
  b.input("x", {1, 4});
  b.constant("used", test::float_tensor({1}, {2.0f}));
  b.constant("orphan", test::float_tensor({1}, {3.0f}));
  b.node("Add", "add", {"x", "used"}, {"y"});
  b.output("y");
  Graph g = b.build();
  g.infer_shapes();
  g.values["stale"] = ValueInfo{DType::f32, {3}};
  g.remove_unused();
  EXPECT_TRUE(g.is_initializer("used"));
  EXPECT_FALSE(g.is_initializer("orphan"));
  EXPECT_EQ(g.values.count("stale"), 0u);
  EXPECT_EQ(g.values.count("orphan"), 0u);
  EXPECT_EQ(g.values.count("x"), 1u);
  EXPECT_EQ(g.values.count("y"), 1u);
}

}  // namespace
}  // namespace octet
