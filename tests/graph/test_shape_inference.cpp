// Shape inference of every op in op_schema, the window geometry behind Conv and pooling, and
// the errors: each must name the node it is about.
#include <gtest/gtest.h>

#include <map>
#include <optional>

#include "graph/op_schema.hpp"
#include "graph/window_geometry.hpp"
#include "tests/graph/graph_builder.hpp"

namespace octet {
namespace {

using test::Attrs;
using test::error_message;

// One node named `name` of type `op` reading in0, in1, ... and writing "out". Each input is a
// graph input of the given shape (and dtype), unless `constants` holds a tensor for its index,
// in which case it is an initializer. An input of nullopt shape is omitted ("").
struct OneNode {
  OneNode(std::string op_type, std::vector<std::optional<Shape>> input_shapes, Attrs attributes = {})
      : op(std::move(op_type)), shapes(std::move(input_shapes)), attrs(std::move(attributes)) {}

  std::string op;
  std::vector<std::optional<Shape>> shapes;
  Attrs attrs;
  std::map<size_t, Tensor> constants;
  DType dtype = DType::f32;
  std::string name = "node_under_test";
  size_t outputs = 1;

  Graph build() const {
    test::GraphBuilder b;
    std::vector<std::string> inputs;
    for (size_t i = 0; i < shapes.size(); ++i) {
      const std::string value = "in" + std::to_string(i);
      if (constants.count(i)) {
        b.constant(value, constants.at(i));
        inputs.push_back(value);
      } else if (shapes[i]) {
        b.input(value, *shapes[i], i == 0 ? dtype : DType::f32);
        inputs.push_back(value);
      } else {
        inputs.push_back("");
      }
    }
    std::vector<std::string> outs = {"out"};
    for (size_t i = 1; i < outputs; ++i) outs.push_back("out" + std::to_string(i));
    b.node(op, name, inputs, outs, attrs);
    b.output("out");
    return b.build();
  }

  ValueInfo infer() const {
    Graph g = build();
    g.infer_shapes();
    return g.value_info("out");
  }
  Shape shape() const { return infer().shape; }
  std::string error() const {
    Graph g = build();
    return error_message([&] { g.infer_shapes(); });
  }
};

// The error names the node ("Op 'node_under_test'") and contains every `parts`.
void expect_node_error(const OneNode& spec, std::vector<std::string> parts = {}) {
  const std::string message = spec.error();
  OCTET_EXPECT_CONTAINS(message, spec.op + " '" + spec.name + "'");
  for (const auto& part : parts) OCTET_EXPECT_CONTAINS(message, part);
}

std::vector<int64_t> ints(std::initializer_list<int64_t> values) { return values; }

// ---------------------------------------------------------------------------------------------
// Conv

TEST(ShapeInferenceConv, Basic) {
  EXPECT_EQ((OneNode{"Conv", {Shape{1, 3, 10, 10}, Shape{8, 3, 3, 3}}}.shape()), (Shape{1, 8, 8, 8}));
  EXPECT_EQ((OneNode{"Conv", {Shape{2, 3, 10, 12}, Shape{8, 3, 1, 1}}}.shape()), (Shape{2, 8, 10, 12}));
  EXPECT_EQ((OneNode{"Conv", {Shape{1, 3, 10, 10}, Shape{8, 3, 1, 3}}}.shape()), (Shape{1, 8, 10, 8}));
}

TEST(ShapeInferenceConv, WithBias) {
  EXPECT_EQ((OneNode{"Conv", {Shape{1, 3, 10, 10}, Shape{8, 3, 3, 3}, Shape{8}}}.shape()),
            (Shape{1, 8, 8, 8}));
  // Omitted optional bias.
  EXPECT_EQ((OneNode{"Conv", {Shape{1, 3, 10, 10}, Shape{8, 3, 3, 3}, std::nullopt}}.shape()),
            (Shape{1, 8, 8, 8}));
}

TEST(ShapeInferenceConv, PadsStridesDilations) {
  const Shape x{1, 3, 10, 10}, w{8, 3, 3, 3};
  EXPECT_EQ((OneNode{"Conv", {x, w}, {{"pads", ints({1, 1, 1, 1})}}}.shape()), (Shape{1, 8, 10, 10}));
  EXPECT_EQ((OneNode{"Conv", {x, w}, {{"pads", ints({1, 1, 1, 1})}, {"strides", ints({2, 2})}}}.shape()),
            (Shape{1, 8, 5, 5}));
  EXPECT_EQ((OneNode{"Conv", {x, w}, {{"strides", ints({3, 2})}}}.shape()), (Shape{1, 8, 3, 4}));
  // Dilation 2 makes a 3x3 kernel span 5.
  EXPECT_EQ((OneNode{"Conv", {x, w}, {{"dilations", ints({2, 2})}}}.shape()), (Shape{1, 8, 6, 6}));
  EXPECT_EQ((OneNode{"Conv", {x, w}, {{"dilations", ints({2, 1})}, {"strides", ints({1, 2})}}}.shape()),
            (Shape{1, 8, 6, 4}));
  // Asymmetric pads: top, left, bottom, right.
  EXPECT_EQ((OneNode{"Conv", {Shape{1, 1, 7, 7}, Shape{2, 1, 3, 3}}, {{"pads", ints({0, 1, 2, 3})}}}.shape()),
            (Shape{1, 2, 7, 9}));
  // Explicit kernel_shape that agrees with the weight.
  EXPECT_EQ((OneNode{"Conv", {x, w}, {{"kernel_shape", ints({3, 3})}}}.shape()), (Shape{1, 8, 8, 8}));
}

TEST(ShapeInferenceConv, Groups) {
  EXPECT_EQ((OneNode{"Conv", {Shape{2, 6, 7, 9}, Shape{4, 3, 3, 3}}, {{"group", int64_t{2}}}}.shape()),
            (Shape{2, 4, 5, 7}));
  EXPECT_EQ((OneNode{"Conv", {Shape{1, 6, 7, 7}, Shape{9, 2, 3, 3}}, {{"group", int64_t{3}}}}.shape()),
            (Shape{1, 9, 5, 5}));
}

TEST(ShapeInferenceConv, Depthwise) {
  EXPECT_EQ((OneNode{"Conv", {Shape{1, 8, 5, 5}, Shape{8, 1, 3, 3}},
                     {{"group", int64_t{8}}, {"pads", ints({1, 1, 1, 1})}}}.shape()),
            (Shape{1, 8, 5, 5}));
  // Channel multiplier 2.
  EXPECT_EQ((OneNode{"Conv", {Shape{1, 8, 5, 5}, Shape{16, 1, 3, 3}},
                     {{"group", int64_t{8}}, {"strides", ints({2, 2})}}}.shape()),
            (Shape{1, 16, 2, 2}));
}

TEST(ShapeInferenceConv, AutoPad) {
  const Shape w{2, 1, 3, 3};
  // SAME_*: output = ceil(input / stride) whatever the kernel.
  for (const char* mode : {"SAME_UPPER", "SAME_LOWER"}) {
    EXPECT_EQ((OneNode{"Conv", {Shape{1, 1, 7, 8}, w}, {{"auto_pad", std::string(mode)}}}.shape()),
              (Shape{1, 2, 7, 8}))
        << mode;
    EXPECT_EQ((OneNode{"Conv", {Shape{1, 1, 7, 8}, w},
                       {{"auto_pad", std::string(mode)}, {"strides", ints({2, 2})}}}.shape()),
              (Shape{1, 2, 4, 4}))
        << mode;
    EXPECT_EQ((OneNode{"Conv", {Shape{1, 1, 10, 11}, w},
                       {{"auto_pad", std::string(mode)}, {"strides", ints({3, 3})}, {"dilations", ints({2, 2})}}}
                   .shape()),
              (Shape{1, 2, 4, 4}))
        << mode;
  }
  // VALID: no padding, even if pads are given.
  EXPECT_EQ((OneNode{"Conv", {Shape{1, 1, 7, 8}, w}, {{"auto_pad", std::string("VALID")}}}.shape()),
            (Shape{1, 2, 5, 6}));
  EXPECT_EQ((OneNode{"Conv", {Shape{1, 1, 7, 8}, w},
                     {{"auto_pad", std::string("VALID")}, {"strides", ints({2, 2})}}}.shape()),
            (Shape{1, 2, 3, 3}));
  EXPECT_EQ((OneNode{"Conv", {Shape{1, 1, 7, 8}, w}, {{"auto_pad", std::string("NOTSET")}}}.shape()),
            (Shape{1, 2, 5, 6}));
  expect_node_error(OneNode{"Conv", {Shape{1, 1, 7, 8}, w}, {{"auto_pad", std::string("SAME_MIDDLE")}}},
                    {"SAME_MIDDLE"});
}

TEST(ShapeInferenceConv, Errors) {
  // Input channels do not match the weight.
  expect_node_error(OneNode{"Conv", {Shape{1, 3, 8, 8}, Shape{8, 4, 3, 3}}}, {"[8,4,3,3]"});
  // Channels not divisible by the group.
  expect_node_error(OneNode{"Conv", {Shape{1, 6, 8, 8}, Shape{4, 3, 3, 3}}, {{"group", int64_t{4}}}},
                    {"group"});
  // Output channels not divisible by the group.
  expect_node_error(OneNode{"Conv", {Shape{1, 6, 8, 8}, Shape{4, 2, 3, 3}}, {{"group", int64_t{3}}}});
  // Weight per-group channels wrong for the group.
  expect_node_error(OneNode{"Conv", {Shape{1, 6, 8, 8}, Shape{6, 3, 3, 3}}, {{"group", int64_t{3}}}});
  expect_node_error(OneNode{"Conv", {Shape{1, 6, 8, 8}, Shape{6, 6, 3, 3}}, {{"group", int64_t{0}}}});
  expect_node_error(OneNode{"Conv", {Shape{1, 3, 8}, Shape{8, 3, 3}}}, {"2-D"});
  expect_node_error(OneNode{"Conv", {Shape{1, 3, 8, 8}, Shape{8, 3, 3}}}, {"weight"});
  expect_node_error(OneNode{"Conv", {Shape{1, 3, 8, 8}, Shape{8, 3, 3, 3}}, {{"kernel_shape", ints({5, 5})}}},
                    {"kernel_shape"});
  expect_node_error(OneNode{"Conv", {Shape{1, 3, 8, 8}, Shape{8, 3, 3, 3}, Shape{4}}}, {"bias"});
  expect_node_error(OneNode{"Conv", {Shape{1, 3, 8, 8}, Shape{8, 3, 3, 3}, Shape{1, 8}}}, {"bias"});
  // Kernel larger than the padded input.
  expect_node_error(OneNode{"Conv", {Shape{1, 3, 2, 2}, Shape{8, 3, 3, 3}}}, {"larger"});
  expect_node_error(OneNode{"Conv", {Shape{1, 3, 8, 8}, Shape{8, 3, 3, 3}}, {{"strides", ints({0, 1})}}});
  expect_node_error(OneNode{"Conv", {Shape{1, 3, 8, 8}, Shape{8, 3, 3, 3}}, {{"pads", ints({-1, 0, 0, 0})}}});
  expect_node_error(OneNode{"Conv", {Shape{1, 3, 8, 8}, Shape{8, 3, 3, 3}}, {{"pads", ints({1, 1})}}});
  expect_node_error(OneNode{"Conv", {Shape{1, 3, 8, 8}, Shape{8, 3, 3, 3}}, {{"strides", ints({1, 1, 1})}}});
  // Wrong dtype.
  OneNode int_input{"Conv", {Shape{1, 3, 8, 8}, Shape{8, 3, 3, 3}}};
  int_input.dtype = DType::u8;
  expect_node_error(int_input, {"u8"});
}

// ---------------------------------------------------------------------------------------------
// Window geometry: the explicit pads SAME_UPPER/SAME_LOWER/ceil_mode resolve to.

Node window_node(const Attrs& attrs) {
  Node node;
  node.op = "MaxPool";
  node.name = "window";
  for (const auto& entry : attrs) node.attrs.set(entry.first, entry.second);
  return node;
}

TEST(ShapeInferenceWindow, SamePaddingSplit) {
  // Height 7, stride 2, kernel 3: out 4, total pad (4-1)*2+3-7 = 2 -> 1 / 1.
  // Width 8, stride 2, kernel 3: out 4, total pad (4-1)*2+3-8 = 1 -> odd pixel at the end for
  // SAME_UPPER, at the beginning for SAME_LOWER.
  WindowGeometry upper = resolve_window_geometry(
      window_node({{"auto_pad", std::string("SAME_UPPER")}, {"strides", ints({2, 2})}}), {1, 1, 7, 8},
      {3, 3}, false);
  EXPECT_EQ(upper.output, ints({4, 4}));
  EXPECT_EQ(upper.pad_begin, ints({1, 0}));
  EXPECT_EQ(upper.pad_end, ints({1, 1}));
  WindowGeometry lower = resolve_window_geometry(
      window_node({{"auto_pad", std::string("SAME_LOWER")}, {"strides", ints({2, 2})}}), {1, 1, 7, 8},
      {3, 3}, false);
  EXPECT_EQ(lower.output, ints({4, 4}));
  EXPECT_EQ(lower.pad_begin, ints({1, 1}));
  EXPECT_EQ(lower.pad_end, ints({1, 0}));
  // Kernel 1, stride 3: SAME never needs padding (negative total clamps to 0).
  WindowGeometry none = resolve_window_geometry(
      window_node({{"auto_pad", std::string("SAME_UPPER")}, {"strides", ints({3, 3})}}), {1, 1, 7, 8},
      {1, 1}, false);
  EXPECT_EQ(none.output, ints({3, 3}));
  EXPECT_EQ(none.pad_begin, ints({0, 0}));
  EXPECT_EQ(none.pad_end, ints({0, 0}));
}

TEST(ShapeInferenceWindow, ExplicitPadsAndDefaults) {
  WindowGeometry g = resolve_window_geometry(window_node({{"pads", ints({1, 2, 3, 4})}}), {2, 3, 9, 9},
                                             {3, 2}, false);
  EXPECT_EQ(g.strides, ints({1, 1}));
  EXPECT_EQ(g.dilations, ints({1, 1}));
  EXPECT_EQ(g.pad_begin, ints({1, 2}));
  EXPECT_EQ(g.pad_end, ints({3, 4}));
  EXPECT_EQ(g.output, ints({9 + 4 - 3 + 1, 9 + 6 - 2 + 1}));
}

TEST(ShapeInferenceWindow, CeilModeDropsWindowStartingInEndPadding) {
  // 5 + 1 + 1 - 2 = 5, ceil(5/2) + 1 = 4, but window 3 starts at 6 - 1 = 5 >= 5: dropped.
  WindowGeometry g = resolve_window_geometry(
      window_node({{"pads", ints({1, 1, 1, 1})}, {"strides", ints({2, 2})}}), {1, 1, 5, 5}, {2, 2}, true);
  EXPECT_EQ(g.output, ints({3, 3}));
  // Same geometry, floor: 5/2 + 1 = 3.
  WindowGeometry floor = resolve_window_geometry(
      window_node({{"pads", ints({1, 1, 1, 1})}, {"strides", ints({2, 2})}}), {1, 1, 5, 5}, {2, 2}, false);
  EXPECT_EQ(floor.output, ints({3, 3}));
}

// ---------------------------------------------------------------------------------------------
// Pooling

TEST(ShapeInferencePool, MaxAndAverage) {
  for (const char* op : {"MaxPool", "AveragePool"}) {
    const Shape x{2, 3, 8, 8};
    EXPECT_EQ((OneNode{op, {x}, {{"kernel_shape", ints({2, 2})}, {"strides", ints({2, 2})}}}.shape()),
              (Shape{2, 3, 4, 4}))
        << op;
    EXPECT_EQ((OneNode{op, {x}, {{"kernel_shape", ints({3, 3})}}}.shape()), (Shape{2, 3, 6, 6})) << op;
    EXPECT_EQ((OneNode{op, {x}, {{"kernel_shape", ints({3, 3})}, {"pads", ints({1, 1, 1, 1})}}}.shape()),
              (Shape{2, 3, 8, 8}))
        << op;
    EXPECT_EQ((OneNode{op, {x}, {{"kernel_shape", ints({3, 3})}, {"strides", ints({2, 2})}}}.shape()),
              (Shape{2, 3, 3, 3}))
        << op;
    EXPECT_EQ((OneNode{op, {x},
                       {{"kernel_shape", ints({3, 3})}, {"strides", ints({2, 2})}, {"ceil_mode", int64_t{1}}}}
                   .shape()),
              (Shape{2, 3, 4, 4}))
        << op;
    EXPECT_EQ((OneNode{op, {Shape{1, 1, 5, 5}},
                       {{"kernel_shape", ints({2, 2})}, {"strides", ints({2, 2})}, {"pads", ints({1, 1, 1, 1})},
                        {"ceil_mode", int64_t{1}}}}
                   .shape()),
              (Shape{1, 1, 3, 3}))
        << op;
    EXPECT_EQ((OneNode{op, {Shape{1, 1, 7, 8}},
                       {{"kernel_shape", ints({3, 3})}, {"strides", ints({2, 2})}, {"auto_pad", std::string("SAME_LOWER")}}}
                   .shape()),
              (Shape{1, 1, 4, 4}))
        << op;
  }
}

TEST(ShapeInferencePool, MaxPoolDilationAndDtypes) {
  EXPECT_EQ((OneNode{"MaxPool", {Shape{1, 2, 10, 10}}, {{"kernel_shape", ints({3, 3})}, {"dilations", ints({2, 2})}}}
                 .shape()),
            (Shape{1, 2, 6, 6}));
  for (DType dtype : {DType::u8, DType::i8}) {
    OneNode spec{"MaxPool", {Shape{1, 2, 4, 4}}, {{"kernel_shape", ints({2, 2})}, {"strides", ints({2, 2})}}};
    spec.dtype = dtype;
    ValueInfo info = spec.infer();
    EXPECT_EQ(info.dtype, dtype);
    EXPECT_EQ(info.shape, (Shape{1, 2, 2, 2}));
  }
  OneNode average_u8{"AveragePool", {Shape{1, 2, 4, 4}}, {{"kernel_shape", ints({2, 2})}}};
  average_u8.dtype = DType::u8;
  expect_node_error(average_u8, {"u8"});
}

TEST(ShapeInferencePool, Errors) {
  expect_node_error(OneNode{"MaxPool", {Shape{1, 2, 4, 4}}}, {"kernel_shape"});
  expect_node_error(OneNode{"AveragePool", {Shape{1, 2, 4}}, {{"kernel_shape", ints({2})}}}, {"2-D"});
  expect_node_error(
      OneNode{"MaxPool", {Shape{1, 2, 4, 4}}, {{"kernel_shape", ints({2, 2})}, {"storage_order", int64_t{1}}}},
      {"storage_order"});
  expect_node_error(OneNode{"MaxPool", {Shape{1, 2, 4, 4}}, {{"kernel_shape", ints({2, 2, 2})}}});
  expect_node_error(OneNode{"MaxPool", {Shape{1, 2, 4, 4}}, {{"kernel_shape", ints({5, 5})}}}, {"larger"});
}

TEST(ShapeInferencePool, GlobalAveragePool) {
  EXPECT_EQ((OneNode{"GlobalAveragePool", {Shape{2, 3, 5, 7}}}.shape()), (Shape{2, 3, 1, 1}));
  EXPECT_EQ((OneNode{"GlobalAveragePool", {Shape{2, 3, 5}}}.shape()), (Shape{2, 3, 1}));
  expect_node_error(OneNode{"GlobalAveragePool", {Shape{2, 3}}});
}

// ---------------------------------------------------------------------------------------------
// Gemm / MatMul / Add

TEST(ShapeInferenceGemm, Transposes) {
  EXPECT_EQ((OneNode{"Gemm", {Shape{4, 6}, Shape{6, 5}}}.shape()), (Shape{4, 5}));
  EXPECT_EQ((OneNode{"Gemm", {Shape{6, 4}, Shape{6, 5}}, {{"transA", int64_t{1}}}}.shape()), (Shape{4, 5}));
  EXPECT_EQ((OneNode{"Gemm", {Shape{4, 6}, Shape{5, 6}}, {{"transB", int64_t{1}}}}.shape()), (Shape{4, 5}));
  EXPECT_EQ((OneNode{"Gemm", {Shape{6, 4}, Shape{5, 6}}, {{"transA", int64_t{1}}, {"transB", int64_t{1}}}}.shape()),
            (Shape{4, 5}));
}

TEST(ShapeInferenceGemm, BiasBroadcast) {
  for (const Shape& c : {Shape{5}, Shape{1}, Shape{1, 5}, Shape{4, 1}, Shape{4, 5}, Shape{1, 1}, Shape{}})
    EXPECT_EQ((OneNode{"Gemm", {Shape{4, 6}, Shape{5, 6}, c}, {{"transB", int64_t{1}}}}.shape()), (Shape{4, 5}))
        << shape_str(c);
  EXPECT_EQ((OneNode{"Gemm", {Shape{4, 6}, Shape{6, 5}, std::nullopt}}.shape()), (Shape{4, 5}));
  expect_node_error(OneNode{"Gemm", {Shape{4, 6}, Shape{6, 5}, Shape{4}}}, {"[4]"});
  expect_node_error(OneNode{"Gemm", {Shape{4, 6}, Shape{6, 5}, Shape{3, 5}}}, {"[3,5]"});
  // Broadcast that would grow the result.
  expect_node_error(OneNode{"Gemm", {Shape{4, 6}, Shape{6, 5}, Shape{2, 4, 5}}}, {"[2,4,5]"});
}

TEST(ShapeInferenceGemm, Errors) {
  expect_node_error(OneNode{"Gemm", {Shape{4, 6}, Shape{7, 5}}}, {"inner", "[4,6]", "[7,5]"});
  expect_node_error(OneNode{"Gemm", {Shape{4, 6}, Shape{6, 5}}, {{"transA", int64_t{1}}}}, {"inner"});
  expect_node_error(OneNode{"Gemm", {Shape{4, 6}, Shape{6, 5}}, {{"transB", int64_t{1}}}}, {"inner"});
  expect_node_error(OneNode{"Gemm", {Shape{2, 4, 6}, Shape{6, 5}}}, {"rank 2"});
  expect_node_error(OneNode{"Gemm", {Shape{4, 6}, Shape{6}}}, {"rank 2"});
}

TEST(ShapeInferenceMatMul, BatchBroadcast) {
  EXPECT_EQ((OneNode{"MatMul", {Shape{3, 4}, Shape{4, 5}}}.shape()), (Shape{3, 5}));
  EXPECT_EQ((OneNode{"MatMul", {Shape{7, 3, 4}, Shape{4, 2}}}.shape()), (Shape{7, 3, 2}));
  EXPECT_EQ((OneNode{"MatMul", {Shape{3, 4}, Shape{7, 4, 2}}}.shape()), (Shape{7, 3, 2}));
  EXPECT_EQ((OneNode{"MatMul", {Shape{2, 1, 3, 4}, Shape{5, 4, 6}}}.shape()), (Shape{2, 5, 3, 6}));
  EXPECT_EQ((OneNode{"MatMul", {Shape{2, 5, 3, 4}, Shape{1, 5, 4, 6}}}.shape()), (Shape{2, 5, 3, 6}));
  expect_node_error(OneNode{"MatMul", {Shape{2, 3, 4}, Shape{3, 4, 5}}}, {"broadcast"});
  expect_node_error(OneNode{"MatMul", {Shape{3, 4}, Shape{5, 6}}}, {"inner", "[3,4]", "[5,6]"});
  expect_node_error(OneNode{"MatMul", {Shape{4}, Shape{4, 6}}}, {"1-D"});
}

TEST(ShapeInferenceAdd, Broadcast) {
  EXPECT_EQ((OneNode{"Add", {Shape{2, 3, 4, 5}, Shape{2, 3, 4, 5}}}.shape()), (Shape{2, 3, 4, 5}));
  EXPECT_EQ((OneNode{"Add", {Shape{2, 3, 4, 5}, Shape{5}}}.shape()), (Shape{2, 3, 4, 5}));
  EXPECT_EQ((OneNode{"Add", {Shape{2, 3, 4, 5}, Shape{3, 1, 1}}}.shape()), (Shape{2, 3, 4, 5}));
  EXPECT_EQ((OneNode{"Add", {Shape{4, 1, 5}, Shape{3, 1}}}.shape()), (Shape{4, 3, 5}));
  EXPECT_EQ((OneNode{"Add", {Shape{1}, Shape{}}}.shape()), (Shape{1}));
  EXPECT_EQ((OneNode{"Add", {Shape{}, Shape{}}}.shape()), (Shape{}));
  EXPECT_EQ((OneNode{"Add", {Shape{1, 6}, Shape{6, 1}}}.shape()), (Shape{6, 6}));
  expect_node_error(OneNode{"Add", {Shape{2, 3}, Shape{4}}}, {"[2,3]", "[4]", "broadcast"});
  expect_node_error(OneNode{"Add", {Shape{2, 3, 4}, Shape{3, 3, 4}}}, {"broadcast"});
}

// ---------------------------------------------------------------------------------------------
// Layout ops

TEST(ShapeInferenceFlatten, Axis) {
  const Shape x{2, 3, 4, 5};
  EXPECT_EQ((OneNode{"Flatten", {x}}.shape()), (Shape{2, 60}));
  EXPECT_EQ((OneNode{"Flatten", {x}, {{"axis", int64_t{0}}}}.shape()), (Shape{1, 120}));
  EXPECT_EQ((OneNode{"Flatten", {x}, {{"axis", int64_t{2}}}}.shape()), (Shape{6, 20}));
  EXPECT_EQ((OneNode{"Flatten", {x}, {{"axis", int64_t{4}}}}.shape()), (Shape{120, 1}));
  EXPECT_EQ((OneNode{"Flatten", {x}, {{"axis", int64_t{-1}}}}.shape()), (Shape{24, 5}));
  EXPECT_EQ((OneNode{"Flatten", {x}, {{"axis", int64_t{-3}}}}.shape()), (Shape{2, 60}));
  EXPECT_EQ((OneNode{"Flatten", {x}, {{"axis", int64_t{-4}}}}.shape()), (Shape{1, 120}));
  expect_node_error(OneNode{"Flatten", {x}, {{"axis", int64_t{5}}}}, {"axis"});
  expect_node_error(OneNode{"Flatten", {x}, {{"axis", int64_t{-5}}}}, {"axis"});
  // The dtype passes through.
  OneNode u8{"Flatten", {Shape{2, 3, 4}}};
  u8.dtype = DType::u8;
  EXPECT_EQ(u8.infer().dtype, DType::u8);
}

TEST(ShapeInferenceReshape, ZeroAndMinusOne) {
  const Shape x{2, 3, 4};
  auto reshape = [&](const Shape& input, std::vector<int64_t> target, int64_t allow_zero = 0) {
    OneNode spec{"Reshape", {input, Shape{static_cast<int64_t>(target.size())}}};
    spec.constants[1] = test::int64_tensor(target);
    if (allow_zero) spec.attrs.emplace_back("allowzero", allow_zero);
    return spec;
  };
  EXPECT_EQ(reshape(x, {0, -1}).shape(), (Shape{2, 12}));
  EXPECT_EQ(reshape(x, {-1}).shape(), (Shape{24}));
  EXPECT_EQ(reshape(x, {4, 0, 2}).shape(), (Shape{4, 3, 2}));
  EXPECT_EQ(reshape(x, {0, 0, -1}).shape(), (Shape{2, 3, 4}));
  EXPECT_EQ(reshape(x, {-1, 2, 1}).shape(), (Shape{12, 2, 1}));
  EXPECT_EQ(reshape(x, {1, 24, 1}).shape(), (Shape{1, 24, 1}));
  // allowzero: a 0 is a real zero dimension, not a copy.
  EXPECT_EQ(reshape(Shape{3, 0}, {0, 4}, 1).shape(), (Shape{0, 4}));
  expect_node_error(reshape(Shape{3, 0}, {0, 4}, 0), {"reshape"});  // copies 3: 12 != 0 elements
  expect_node_error(reshape(x, {0, 12}, 1), {"[0,12]"});
  // Errors.
  expect_node_error(reshape(x, {-1, -1}), {"-1"});
  expect_node_error(reshape(x, {5, -1}), {"-1"});
  expect_node_error(reshape(x, {5, 5}), {"[5,5]"});
  expect_node_error(reshape(x, {0, 0, 0, 0}), {"0"});
  expect_node_error(reshape(x, {-2, 12}), {"-2"});
}

TEST(ShapeInferenceReshape, ShapeTensorKinds) {
  // int32 shape tensors are accepted.
  OneNode i32{"Reshape", {Shape{2, 3, 4}, Shape{2}}};
  Tensor target(DType::i32, {2});
  target.mutable_data<int32_t>()[0] = 6;
  target.mutable_data<int32_t>()[1] = -1;
  i32.constants[1] = target;
  EXPECT_EQ(i32.shape(), (Shape{6, 4}));
  // A runtime shape input is refused, naming the input.
  expect_node_error(OneNode{"Reshape", {Shape{2, 3, 4}, Shape{2}}}, {"'in1'", "constant"});
  // A float shape tensor is refused.
  OneNode floats{"Reshape", {Shape{2, 3, 4}, Shape{2}}};
  floats.constants[1] = test::float_tensor({2}, {6, 4});
  expect_node_error(floats, {"integers"});
}

TEST(ShapeInferenceTranspose, Perm) {
  const Shape x{2, 3, 4};
  EXPECT_EQ((OneNode{"Transpose", {x}, {{"perm", ints({1, 2, 0})}}}.shape()), (Shape{3, 4, 2}));
  EXPECT_EQ((OneNode{"Transpose", {x}, {{"perm", ints({0, 1, 2})}}}.shape()), (Shape{2, 3, 4}));
  EXPECT_EQ((OneNode{"Transpose", {x}}.shape()), (Shape{4, 3, 2}));  // default: reverse
  EXPECT_EQ((OneNode{"Transpose", {Shape{1, 2, 3, 4, 5}}, {{"perm", ints({4, 0, 3, 1, 2})}}}.shape()),
            (Shape{5, 1, 4, 2, 3}));
  expect_node_error(OneNode{"Transpose", {x}, {{"perm", ints({0, 0, 1})}}}, {"permutation"});
  expect_node_error(OneNode{"Transpose", {x}, {{"perm", ints({0, 1, 3})}}}, {"permutation"});
  expect_node_error(OneNode{"Transpose", {x}, {{"perm", ints({0, -1, 2})}}}, {"permutation"});
  expect_node_error(OneNode{"Transpose", {x}, {{"perm", ints({1, 0})}}}, {"rank"});
}

// ---------------------------------------------------------------------------------------------
// Normalization, activations, passthrough

OneNode batchnorm(const Shape& x, std::vector<Shape> params) {
  OneNode spec{"BatchNormalization", {x}};
  for (const auto& p : params) spec.shapes.push_back(p);
  return spec;
}

TEST(ShapeInferenceBatchNorm, ShapesAndParamErrors) {
  EXPECT_EQ(batchnorm({2, 4, 5, 5}, {{4}, {4}, {4}, {4}}).shape(), (Shape{2, 4, 5, 5}));
  EXPECT_EQ(batchnorm({2, 4}, {{4}, {4}, {4}, {4}}).shape(), (Shape{2, 4}));
  // Each parameter is checked, and the error names it.
  for (size_t bad = 1; bad <= 4; ++bad) {
    std::vector<Shape> params(4, Shape{4});
    params[bad - 1] = Shape{3};
    expect_node_error(batchnorm({2, 4, 5, 5}, params), {"'in" + std::to_string(bad) + "'", "4 elements", "[3]"});
    params[bad - 1] = Shape{1, 4};
    expect_node_error(batchnorm({2, 4, 5, 5}, params), {"'in" + std::to_string(bad) + "'", "[1,4]"});
  }
  expect_node_error(batchnorm({4}, {{4}, {4}, {4}, {4}}), {"N,C"});
  OneNode training = batchnorm({2, 4, 5, 5}, {{4}, {4}, {4}, {4}});
  training.attrs.emplace_back("training_mode", int64_t{1});
  expect_node_error(training, {"training_mode"});
  OneNode not_spatial = batchnorm({2, 4, 5, 5}, {{4}, {4}, {4}, {4}});
  not_spatial.attrs.emplace_back("spatial", int64_t{0});
  expect_node_error(not_spatial, {"spatial"});
  OneNode running = batchnorm({2, 4, 5, 5}, {{4}, {4}, {4}, {4}});
  running.outputs = 3;
  expect_node_error(running, {"training outputs"});
  // Too few inputs.
  expect_node_error(batchnorm({2, 4, 5, 5}, {{4}, {4}, {4}}), {"inputs"});
}

TEST(ShapeInferenceSoftmax, Axis) {
  EXPECT_EQ((OneNode{"Softmax", {Shape{3, 7}}}.shape()), (Shape{3, 7}));
  EXPECT_EQ((OneNode{"Softmax", {Shape{3, 7}}, {{"axis", int64_t{0}}}}.shape()), (Shape{3, 7}));
  EXPECT_EQ((OneNode{"Softmax", {Shape{3, 7}}, {{"axis", int64_t{-2}}}}.shape()), (Shape{3, 7}));
  expect_node_error(OneNode{"Softmax", {Shape{3, 7}}, {{"axis", int64_t{2}}}}, {"axis", "rank 2"});
  expect_node_error(OneNode{"Softmax", {Shape{3, 7}}, {{"axis", int64_t{-3}}}}, {"axis"});
  expect_node_error(OneNode{"Softmax", {Shape{}}}, {"axis"});
}

TEST(ShapeInferenceElementwise, ReluClipIdentityDropout) {
  const Shape x{2, 3, 4};
  EXPECT_EQ((OneNode{"Relu", {x}}.shape()), x);
  EXPECT_EQ((OneNode{"Identity", {x}}.shape()), x);
  EXPECT_EQ((OneNode{"Dropout", {x}}.shape()), x);
  EXPECT_EQ((OneNode{"Clip", {x}}.shape()), x);
  OneNode clip{"Clip", {x, Shape{}, Shape{}}};
  clip.constants[1] = test::scalar_tensor(0.0f);
  clip.constants[2] = test::scalar_tensor(6.0f);
  EXPECT_EQ(clip.shape(), x);
  OneNode only_max{"Clip", {x, std::nullopt, Shape{}}};
  only_max.constants[2] = test::scalar_tensor(6.0f);
  EXPECT_EQ(only_max.shape(), x);
  // Runtime bounds are refused.
  expect_node_error(OneNode{"Clip", {x, Shape{}, Shape{}}}, {"constant"});
  // Dropout's mask output is refused.
  OneNode mask{"Dropout", {x}};
  mask.outputs = 2;
  expect_node_error(mask, {"mask"});
  OneNode u8_relu{"Relu", {x}};
  u8_relu.dtype = DType::u8;
  expect_node_error(u8_relu, {"u8"});
}

// ---------------------------------------------------------------------------------------------
// Schema table and generic checks

TEST(ShapeInferenceSchema, EveryOpHasASchema) {
  const std::vector<std::string> ops = supported_ops();
  for (const char* op : {"Conv", "Gemm", "MatMul", "Add", "Relu", "Clip", "MaxPool", "AveragePool",
                         "GlobalAveragePool", "Flatten", "Reshape", "Transpose", "BatchNormalization",
                         "Identity", "Dropout", "Softmax"}) {
    EXPECT_NE(std::find(ops.begin(), ops.end(), op), ops.end()) << op;
    const OpSchema* schema = find_op_schema(op);
    ASSERT_NE(schema, nullptr) << op;
    EXPECT_EQ(schema->op, op);
    EXPECT_LE(schema->min_inputs, schema->max_inputs) << op;
    EXPECT_TRUE(static_cast<bool>(schema->infer)) << op;
  }
  EXPECT_EQ(find_op_schema("LSTM"), nullptr);
}

TEST(ShapeInferenceSchema, GenericErrors) {
  OCTET_EXPECT_CONTAINS((OneNode{"LSTM", {Shape{1, 2}}}.error()), "LSTM 'node_under_test'");
  expect_node_error(OneNode{"Relu", {Shape{1, 2}, Shape{1, 2}}}, {"inputs"});
  expect_node_error(OneNode{"Conv", {Shape{1, 3, 8, 8}}}, {"inputs"});
  expect_node_error(OneNode{"Conv", {Shape{1, 3, 8, 8}, std::nullopt}}, {"missing"});
  OneNode two_outputs{"Relu", {Shape{1, 2}}};
  two_outputs.outputs = 2;
  expect_node_error(two_outputs, {"outputs"});
  // A graph input without a declared type.
  Graph g = OneNode{"Relu", {Shape{1, 2}}}.build();
  g.values.clear();
  OCTET_EXPECT_CONTAINS(error_message([&] { g.infer_shapes(); }), "'in0'");
}

TEST(ShapeInferenceGraph, PropagatesThroughAChainAndRecordsInitializers) {
  test::GraphBuilder b;
  b.input("x", {2, 3, 9, 9});
  b.conv("conv", "x", "c", 3, 8, 3, true, {{"strides", ints({2, 2})}, {"pads", ints({1, 1, 1, 1})}});
  b.node("Relu", "relu", {"c"}, {"r"});
  b.node("MaxPool", "pool", {"r"}, {"p"}, {{"kernel_shape", ints({2, 2})}, {"strides", ints({2, 2})}});
  b.node("Flatten", "flat", {"p"}, {"f"});
  b.random_constant("fc.w", {10, 32});
  b.random_constant("fc.b", {10});
  b.node("Gemm", "fc", {"f", "fc.w", "fc.b"}, {"logits"}, {{"transB", int64_t{1}}});
  b.node("Softmax", "prob", {"logits"}, {"y"});
  b.output("y");
  Graph g = b.build();
  g.infer_shapes();
  EXPECT_EQ(g.value_info("c").shape, (Shape{2, 8, 5, 5}));
  EXPECT_EQ(g.value_info("r").shape, (Shape{2, 8, 5, 5}));
  EXPECT_EQ(g.value_info("p").shape, (Shape{2, 8, 2, 2}));
  EXPECT_EQ(g.value_info("f").shape, (Shape{2, 32}));
  EXPECT_EQ(g.value_info("logits").shape, (Shape{2, 10}));
  EXPECT_EQ(g.value_info("y").shape, (Shape{2, 10}));
  EXPECT_EQ(g.value_info("conv.w").shape, (Shape{8, 3, 3, 3}));
  EXPECT_EQ(g.value_info("fc.b").dtype, DType::f32);
}

}  // namespace
}  // namespace octet
