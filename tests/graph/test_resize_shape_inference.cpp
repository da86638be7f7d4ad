// Shape inference and validation of Octet's Resize node (nearest, NCHW, spatial axes only):
// output sizes from scales (floored) or sizes, kept element types, and one clear error naming
// the node for each thing Octet cannot resize.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "graph/resize_geometry.hpp"
#include "tests/graph/graph_builder.hpp"

namespace octet {
namespace {

using test::Attrs;
using test::error_message;

std::vector<float> floats(std::initializer_list<float> values) { return values; }
std::vector<int64_t> ints(std::initializer_list<int64_t> values) { return values; }

Graph resize_graph(const Shape& input, const Attrs& attrs, DType dtype = DType::f32) {
  test::GraphBuilder b;
  b.input("x", input, dtype);
  b.node("Resize", "up", {"x"}, {"y"}, attrs);
  b.output("y");
  return b.build();
}

ValueInfo inferred(const Shape& input, const Attrs& attrs, DType dtype = DType::f32) {
  Graph g = resize_graph(input, attrs, dtype);
  g.infer_shapes();
  return g.value_info("y");
}

// The error names the node and contains every part.
void expect_error(const Shape& input, const Attrs& attrs, std::initializer_list<std::string> parts,
                  DType dtype = DType::f32) {
  Graph g = resize_graph(input, attrs, dtype);
  const std::string message = error_message([&] { g.infer_shapes(); });
  OCTET_EXPECT_CONTAINS(message, "Resize 'up'");
  for (const auto& part : parts) OCTET_EXPECT_CONTAINS(message, part);
}

TEST(ResizeShapeInference, ScalesMultiplyAndFloorTheSpatialAxes) {
  EXPECT_EQ(inferred({2, 3, 4, 5}, {{"scales", floats({1, 1, 2, 2})}}).shape, (Shape{2, 3, 8, 10}));
  // floor(2 × 0.6) = 1, floor(4 × 0.6) = 2 (ONNX's test_resize_downsample_scales_nearest).
  EXPECT_EQ(inferred({1, 1, 2, 4}, {{"scales", floats({1, 1, 0.6f, 0.6f})}}).shape, (Shape{1, 1, 1, 2}));
  EXPECT_EQ(inferred({1, 1, 3, 3}, {{"scales", floats({1, 1, 1.5f, 2.5f})}}).shape, (Shape{1, 1, 4, 7}));
}

TEST(ResizeShapeInference, SizesGiveTheOutputDirectly) {
  EXPECT_EQ(inferred({1, 2, 4, 4}, {{"sizes", ints({1, 2, 7, 3})}}).shape, (Shape{1, 2, 7, 3}));
}

TEST(ResizeShapeInference, KeepsTheElementType) {
  const Attrs attrs = {{"scales", floats({1, 1, 2, 2})}};
  for (DType dtype : {DType::f32, DType::i8, DType::u8}) EXPECT_EQ(inferred({1, 1, 2, 2}, attrs, dtype).dtype, dtype);
  expect_error({1, 1, 2, 2}, attrs, {"unsupported type", "i32"}, DType::i32);
}

TEST(ResizeShapeInference, AcceptsEveryNearestModeItImplements) {
  for (const char* transform : {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn"})
    for (const char* rounding : {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"})
      EXPECT_EQ(inferred({1, 1, 2, 2}, {{"scales", floats({1, 1, 2, 2})},
                                        {"mode", std::string("nearest")},
                                        {"coordinate_transformation_mode", std::string(transform)},
                                        {"nearest_mode", std::string(rounding)}})
                    .shape,
                (Shape{1, 1, 4, 4}))
          << transform << " " << rounding;
}

TEST(ResizeShapeInference, RefusesOtherModes) {
  const Attrs scales = {{"scales", floats({1, 1, 2, 2})}};
  for (const char* mode : {"linear", "cubic"}) {
    Attrs attrs = scales;
    attrs.emplace_back("mode", std::string(mode));
    expect_error({1, 1, 2, 2}, attrs, {std::string("mode '") + mode + "'", "only 'nearest'"});
  }
  Attrs crop = scales;
  crop.emplace_back("coordinate_transformation_mode", std::string("tf_crop_and_resize"));
  expect_error({1, 1, 2, 2}, crop, {"coordinate_transformation_mode 'tf_crop_and_resize'", "half_pixel"});
  Attrs rounding = scales;
  rounding.emplace_back("nearest_mode", std::string("round"));
  expect_error({1, 1, 2, 2}, rounding, {"nearest_mode 'round'", "round_prefer_floor"});
}

TEST(ResizeShapeInference, ResizesOnlyTheSpatialAxesOfNchw) {
  expect_error({1, 3, 4, 4}, {{"scales", floats({1, 2, 2, 2})}}, {"spatial axes", "[1,2,2,2]", "N or C"});
  expect_error({1, 3, 4, 4}, {{"scales", floats({2, 1, 2, 2})}}, {"spatial axes"});
  expect_error({1, 3, 4, 4}, {{"sizes", ints({1, 6, 8, 8})}}, {"spatial axes", "[1,6,8,8]", "[1,3,4,4]"});
  expect_error({1, 3, 4}, {{"scales", floats({1, 1, 2})}}, {"4-D", "[1,3,4]"});
  expect_error({1, 3, 4, 4, 4}, {{"scales", floats({1, 1, 2, 2, 2})}}, {"4-D"});
}

TEST(ResizeShapeInference, NeedsExactlyOneOfScalesAndSizes) {
  expect_error({1, 1, 2, 2}, {}, {"exactly one of 'scales' and 'sizes'"});
  expect_error({1, 1, 2, 2}, {{"scales", floats({1, 1, 2, 2})}, {"sizes", ints({1, 1, 4, 4})}},
               {"exactly one"});
  expect_error({1, 1, 2, 2}, {{"scales", floats({1, 1, 2})}}, {"scales has 3 values", "rank 4"});
  expect_error({1, 1, 2, 2}, {{"sizes", ints({1, 1, 4, 4, 1})}}, {"sizes has 5 values"});
  expect_error({1, 1, 2, 2}, {{"scales", ints({1, 1, 2, 2})}}, {"scales"});  // ints where floats belong
}

TEST(ResizeShapeInference, RefusesEmptyAndInvalidOutputs) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  for (float bad : {0.0f, -2.0f, inf, nan})
    expect_error({1, 1, 4, 4}, {{"scales", floats({1, 1, 2, bad})}}, {"positive and finite"});
  expect_error({1, 1, 4, 4}, {{"scales", floats({1, 1, 0.2f, 1})}}, {"leaves no element", "axis 2"});
  expect_error({1, 1, 4, 4}, {{"scales", floats({1, 1, 1, 1e30f})}}, {"too long"});
  expect_error({1, 1, 4, 4}, {{"sizes", ints({1, 1, 0, 4})}}, {"must be positive"});
  expect_error({1, 1, 0, 4}, {{"sizes", ints({1, 1, 2, 4})}}, {"empty input"});
}

TEST(ResizeShapeInference, Int8OutputSharesTheInputQparams) {
  Graph g = resize_graph({1, 1, 2, 2}, {{"scales", floats({1, 1, 2, 2})}}, DType::i8);
  g.quant["x"] = QuantParams{{0.5f}, {3}, -1};
  g.quant["y"] = QuantParams{{0.5f}, {3}, -1};
  g.infer_shapes();
  EXPECT_EQ(g.value_info("y").dtype, DType::i8);
  g.quant["y"] = QuantParams{{0.25f}, {3}, -1};
  OCTET_EXPECT_CONTAINS(error_message([&] { g.infer_shapes(); }), "Resize 'up': input and output must share");
  g.quant.erase("y");
  OCTET_EXPECT_CONTAINS(error_message([&] { g.infer_shapes(); }), "must share quantization parameters");
}

TEST(ResizeGeometry, ScalesAreKeptForTheCoordinateFormulas) {
  Node node;
  node.op = "Resize";
  node.name = "up";
  node.attrs.set("scales", floats({1, 1, 0.6f, 2}));
  node.attrs.set("coordinate_transformation_mode", std::string("asymmetric"));
  node.attrs.set("nearest_mode", std::string("floor"));
  ResizeGeometry g = resolve_resize_geometry(node, {1, 1, 4, 3});
  EXPECT_EQ(g.output[0], 2);
  EXPECT_EQ(g.output[1], 6);
  EXPECT_EQ(g.scale[0], static_cast<double>(0.6f));
  EXPECT_EQ(g.scale[1], 2.0);
  EXPECT_EQ(g.transform, kernels::CoordinateTransform::asymmetric);
  EXPECT_EQ(g.rounding, kernels::NearestRounding::floor);
  // With sizes the scale is output / input; the defaults are half_pixel and round_prefer_floor.
  node.attrs = Attributes();
  node.attrs.set("sizes", ints({1, 1, 3, 7}));
  g = resolve_resize_geometry(node, {1, 1, 8, 2});
  EXPECT_EQ(g.scale[0], 3.0 / 8.0);
  EXPECT_EQ(g.scale[1], 3.5);
  EXPECT_EQ(g.transform, kernels::CoordinateTransform::half_pixel);
  EXPECT_EQ(g.rounding, kernels::NearestRounding::round_prefer_floor);
}

}  // namespace
}  // namespace octet
