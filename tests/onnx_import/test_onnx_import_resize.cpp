// ONNX Resize and Upsample import: PyTorch's own exports of nn.Upsample(scale_factor=2,
// mode='nearest') at opsets 9, 11 and 13 against PyTorch's output; each ONNX form (scales or
// sizes as initializers or Constant nodes, empty and omitted inputs, Upsample-7's attribute,
// Resize-10); and the errors, each naming the node: linear/cubic modes, non-constant scales or
// sizes, resizing channels, unsupported coordinate modes and attributes.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "engine/data/npy.hpp"
#include "engine/model.hpp"
#include "engine/session.hpp"
#include "graph/onnx/onnx_import.hpp"
#include "tests/graph/graph_builder.hpp"
#include "tests/tools/onnx_model_writer.hpp"

namespace octet {
namespace {

using test::error_message;

const std::string kFixtures = std::string(OCTET_SOURCE_DIR) + "/tests/fixtures/upsample/";

// ---------------------------------------------------------------------------------------------
// Building models

// x [1,2,3,4] → <op> 'up' → y, at `opset`; the node's other inputs and attributes are added by
// the test.
struct ResizeModel {
  onnx::ModelProto model;
  onnx::NodeProto* node;

  explicit ResizeModel(int opset, const std::string& op = "Resize") {
    model.set_ir_version(7);
    model.add_opset_import()->set_version(opset);
    auto* graph = model.mutable_graph();
    graph->set_name("resize");
    test::add_tensor_value(graph->add_input(), "x", {1, 2, 3, 4});
    test::add_tensor_value(graph->add_output(), "y", {});
    node = graph->add_node();
    node->set_op_type(op);
    node->set_name("up");
    node->add_input("x");
    node->add_output("y");
  }

  ResizeModel& inputs(std::initializer_list<const char*> names) {
    for (const char* name : names) node->add_input(name);
    return *this;
  }
  ResizeModel& attribute(const std::string& name, const std::string& value) {
    auto* attr = node->add_attribute();
    attr->set_name(name);
    attr->set_type(onnx::AttributeProto::STRING);
    attr->set_s(value);
    return *this;
  }
  ResizeModel& float_attribute(const std::string& name, float value) {
    auto* attr = node->add_attribute();
    attr->set_name(name);
    attr->set_type(onnx::AttributeProto::FLOAT);
    attr->set_f(value);
    return *this;
  }
  ResizeModel& floats_attribute(const std::string& name, const std::vector<float>& values) {
    auto* attr = node->add_attribute();
    attr->set_name(name);
    attr->set_type(onnx::AttributeProto::FLOATS);
    for (float v : values) attr->add_floats(v);
    return *this;
  }
  ResizeModel& float_initializer(const std::string& name, const std::vector<float>& values) {
    test::add_float_initializer(*model.mutable_graph(), name, {static_cast<int64_t>(values.size())}, values);
    return *this;
  }
  ResizeModel& int64_initializer(const std::string& name, const std::vector<int64_t>& values) {
    auto* tensor = model.mutable_graph()->add_initializer();
    tensor->set_name(name);
    tensor->set_data_type(onnx::TensorProto::INT64);
    tensor->add_dims(static_cast<int64_t>(values.size()));
    for (int64_t v : values) tensor->add_int64_data(v);
    return *this;
  }
  // A Constant node before the Resize, as exporters write scales and roi.
  ResizeModel& float_constant(const std::string& output, const std::vector<float>& values) {
    auto* graph = model.mutable_graph();
    auto* constant = graph->add_node();
    constant->set_op_type("Constant");
    constant->add_output(output);
    auto* attr = constant->add_attribute();
    attr->set_name("value");
    attr->set_type(onnx::AttributeProto::TENSOR);
    attr->mutable_t()->set_data_type(onnx::TensorProto::FLOAT);
    attr->mutable_t()->add_dims(static_cast<int64_t>(values.size()));
    for (float v : values) attr->mutable_t()->add_float_data(v);
    // Keep the Resize node last, after the constants it reads.
    graph->mutable_node()->SwapElements(graph->node_size() - 1, graph->node_size() - 2);
    node = graph->mutable_node(graph->node_size() - 1);
    return *this;
  }
  ResizeModel& graph_input(const std::string& name, int64_t length) {
    test::add_tensor_value(model.mutable_graph()->add_input(), name, {length});
    return *this;
  }

  Graph import() const {
    const std::string bytes = test::serialize(model);
    return import_onnx_bytes(bytes.data(), bytes.size(), "'resize.onnx'");
  }
  std::string error() const {
    return error_message([&] { import(); });
  }
};

const Node& only_node(const Graph& graph) {
  EXPECT_EQ(graph.nodes.size(), 1u);
  return graph.nodes.at(0);
}

// The error names the file and the node, and contains every part.
void expect_import_error(const ResizeModel& model, std::initializer_list<std::string> parts) {
  const std::string message = model.error();
  OCTET_EXPECT_CONTAINS(message, "'up'");
  for (const auto& part : parts) OCTET_EXPECT_CONTAINS(message, part);
}

// ---------------------------------------------------------------------------------------------
// PyTorch's exports

Tensor npy_tensor(const std::string& path) {
  const data::NpyArray array = data::read_npy(path);
  Tensor tensor(DType::f32, array.shape);
  std::memcpy(tensor.mutable_raw(), array.f32(), tensor.bytes());
  return tensor;
}

TEST(OnnxImportResize, PyTorchUpsampleExportsMatchPyTorch) {
  const Tensor input = npy_tensor(kFixtures + "input.npy");
  const Tensor expected = npy_tensor(kFixtures + "expected.npy");
  for (int opset : {9, 11, 13}) {
    SCOPED_TRACE("opset " + std::to_string(opset));
    Graph graph = import_onnx_file(kFixtures + "upsample_nearest_opset" + std::to_string(opset) + ".onnx");
    ASSERT_EQ(test::node_ops(graph), (std::vector<std::string>{"Conv", "Resize"}));
    const Node& resize = graph.nodes[1];
    EXPECT_EQ(resize.inputs.size(), 1u);
    EXPECT_EQ(resize.attrs.get_floats("scales"), (std::vector<float>{1, 1, 2, 2}));
    EXPECT_EQ(resize.attrs.get_string("coordinate_transformation_mode", ""), "asymmetric");
    EXPECT_EQ(resize.attrs.get_string("nearest_mode", ""), "floor");
    // The scales and roi constants are attributes now: only the Conv's weights remain.
    EXPECT_EQ(graph.initializers.size(), 2u);
    Model model = Model::from_graph(std::move(graph));
    for (const std::string& backend : available_backends()) {
      SessionOptions options;
      options.backend = backend;
      Session session(model, options);
      test::expect_close(session.run({input}).at(0), expected, 1e-5, backend);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// ONNX forms

TEST(OnnxImportResize, Opset13ScalesInitializerWithOmittedRoi) {
  ResizeModel m(13);
  m.inputs({"", "scales"}).float_initializer("scales", {1, 1, 2, 1.5f}).attribute("mode", "nearest");
  const Graph graph = m.import();
  const Node& node = only_node(graph);
  EXPECT_EQ(node.op, "Resize");
  EXPECT_EQ(node.inputs, std::vector<std::string>{"x"});
  EXPECT_EQ(node.attrs.get_floats("scales"), (std::vector<float>{1, 1, 2, 1.5f}));
  EXPECT_FALSE(node.attrs.has("sizes"));
  // ONNX's defaults (half_pixel, round_prefer_floor) apply: the importer adds no mode.
  EXPECT_FALSE(node.attrs.has("coordinate_transformation_mode"));
  EXPECT_EQ(graph.value_info("y").shape, (Shape{1, 2, 6, 6}));
  EXPECT_TRUE(graph.initializers.empty());
}

TEST(OnnxImportResize, Opset13SizesWithEveryModeAttribute) {
  ResizeModel m(13);
  m.inputs({"", "", "sizes"})
      .int64_initializer("sizes", {1, 2, 5, 2})
      .attribute("mode", "nearest")
      .attribute("coordinate_transformation_mode", "align_corners")
      .attribute("nearest_mode", "ceil")
      .float_attribute("cubic_coeff_a", -0.5f)      // cubic only: ignored
      .float_attribute("extrapolation_value", 3);  // tf_crop_and_resize only: ignored
  const Graph graph = m.import();
  const Node& node = only_node(graph);
  EXPECT_EQ(node.attrs.get_ints("sizes"), (std::vector<int64_t>{1, 2, 5, 2}));
  EXPECT_EQ(node.attrs.get_string("coordinate_transformation_mode", ""), "align_corners");
  EXPECT_EQ(node.attrs.get_string("nearest_mode", ""), "ceil");
  EXPECT_FALSE(node.attrs.has("cubic_coeff_a"));
  EXPECT_FALSE(node.attrs.has("extrapolation_value"));
  EXPECT_EQ(graph.value_info("y").shape, (Shape{1, 2, 5, 2}));
}

TEST(OnnxImportResize, Opset11SizesNextToEmptyRoiAndScalesConstants) {
  ResizeModel m(11);
  m.inputs({"roi", "scales", "sizes"})
      .float_constant("roi", {})
      .float_constant("scales", {})
      .int64_initializer("sizes", {1, 2, 1, 8})
      .attribute("coordinate_transformation_mode", "tf_half_pixel_for_nn");
  const Graph graph = m.import();
  EXPECT_EQ(only_node(graph).attrs.get_ints("sizes"), (std::vector<int64_t>{1, 2, 1, 8}));
  EXPECT_FALSE(only_node(graph).attrs.has("scales"));
  EXPECT_EQ(graph.value_info("y").shape, (Shape{1, 2, 1, 8}));
  EXPECT_TRUE(graph.initializers.empty());
}

TEST(OnnxImportResize, OlderOpsGetAsymmetricFloorModes) {
  ResizeModel upsample7(7, "Upsample");
  upsample7.floats_attribute("scales", {1, 1, 2, 3}).attribute("mode", "nearest");
  ResizeModel upsample9(9, "Upsample");
  upsample9.inputs({"s"}).float_constant("s", {1, 1, 2, 3});
  ResizeModel resize10(10);
  resize10.inputs({"s"}).float_initializer("s", {1, 1, 2, 3});
  for (const ResizeModel* m : {&upsample7, &upsample9, &resize10}) {
    const Graph graph = m->import();
    const Node& node = only_node(graph);
    EXPECT_EQ(node.op, "Resize");
    EXPECT_EQ(node.name, "up");
    EXPECT_EQ(node.attrs.get_string("coordinate_transformation_mode", ""), "asymmetric");
    EXPECT_EQ(node.attrs.get_string("nearest_mode", ""), "floor");
    EXPECT_EQ(graph.value_info("y").shape, (Shape{1, 2, 6, 12}));
  }
  // Upsample's x/scale rounded down: every pixel repeated 2 × 3 times.
  Model model = Model::from_graph(upsample9.import());
  Tensor x(DType::f32, {1, 2, 3, 4});
  for (int64_t i = 0; i < x.elements(); ++i) x.mutable_data<float>()[i] = static_cast<float>(i);
  const Tensor y = Session(model).run({x}).at(0);
  for (int64_t p = 0; p < 2; ++p)
    for (int64_t h = 0; h < 6; ++h)
      for (int64_t w = 0; w < 12; ++w)
        ASSERT_EQ(y.data<float>()[(p * 6 + h) * 12 + w], x.data<float>()[(p * 3 + h / 2) * 4 + w / 3]);
}

// ---------------------------------------------------------------------------------------------
// Errors

TEST(OnnxImportResize, LinearAndCubicModesAreRefused) {
  for (const char* mode : {"linear", "cubic"}) {
    ResizeModel m(13);
    m.inputs({"", "scales"}).float_initializer("scales", {1, 1, 2, 2}).attribute("mode", mode);
    expect_import_error(m, {"'resize.onnx'", "Resize 'up'", std::string("mode '") + mode + "'", "only 'nearest'"});
  }
  ResizeModel upsample(9, "Upsample");
  upsample.inputs({"s"}).float_initializer("s", {1, 1, 2, 2}).attribute("mode", "linear");
  expect_import_error(upsample, {"mode 'linear'"});
}

TEST(OnnxImportResize, NonConstantScalesOrSizesAreRefused) {
  ResizeModel scales(13);
  scales.inputs({"", "runtime_scales"}).graph_input("runtime_scales", 4);
  expect_import_error(scales, {"Resize 'up'", "scales input 'runtime_scales'", "not a constant"});
  ResizeModel sizes(13);
  sizes.inputs({"", "", "runtime_sizes"}).graph_input("runtime_sizes", 4);
  expect_import_error(sizes, {"sizes input 'runtime_sizes'", "not a constant"});
  ResizeModel upsample(9, "Upsample");
  upsample.inputs({"runtime_scales"}).graph_input("runtime_scales", 4);
  expect_import_error(upsample, {"Upsample 'up'", "scales input 'runtime_scales'", "not a constant"});
}

TEST(OnnxImportResize, ResizingBatchOrChannelsIsRefused) {
  ResizeModel channels(13);
  channels.inputs({"", "scales"}).float_initializer("scales", {1, 2, 2, 2});
  expect_import_error(channels, {"Resize 'up'", "only the spatial axes (H, W)", "[1,2,2,2]"});
  ResizeModel batch(13);
  batch.inputs({"", "", "sizes"}).int64_initializer("sizes", {2, 2, 6, 8});
  expect_import_error(batch, {"only the spatial axes", "[2,2,6,8]"});
}

TEST(OnnxImportResize, UnsupportedCoordinateModesAndAttributes) {
  ResizeModel crop(13);
  crop.inputs({"roi", "", "sizes"})
      .float_initializer("roi", {0, 0, 0, 0, 1, 1, 1, 1})
      .int64_initializer("sizes", {1, 2, 2, 2})
      .attribute("coordinate_transformation_mode", "tf_crop_and_resize");
  expect_import_error(crop, {"coordinate_transformation_mode 'tf_crop_and_resize' is not supported"});
  ResizeModel rounding(13);
  rounding.inputs({"", "scales"}).float_initializer("scales", {1, 1, 2, 2}).attribute("nearest_mode", "nearest");
  expect_import_error(rounding, {"nearest_mode 'nearest'"});
  ResizeModel unknown(13);
  unknown.inputs({"", "scales"}).float_initializer("scales", {1, 1, 2, 2}).attribute("antialias", "1");
  expect_import_error(unknown, {"unsupported attribute 'antialias'"});
  // Resize-10 has no coordinate modes.
  ResizeModel old(10);
  old.inputs({"s"}).float_initializer("s", {1, 1, 2, 2}).attribute("coordinate_transformation_mode", "half_pixel");
  expect_import_error(old, {"unsupported attribute 'coordinate_transformation_mode'"});
}

TEST(OnnxImportResize, MalformedScalesAndSizes) {
  ResizeModel both(13);
  both.inputs({"", "scales", "sizes"}).float_initializer("scales", {1, 1, 2, 2}).int64_initializer("sizes", {1, 2, 6, 8});
  expect_import_error(both, {"scales and sizes are both given"});
  ResizeModel neither(13);
  expect_import_error(neither, {"needs scales or sizes"});
  ResizeModel int_scales(13);
  int_scales.inputs({"", "scales"}).int64_initializer("scales", {1, 1, 2, 2});
  expect_import_error(int_scales, {"scales must be float", "i64"});
  ResizeModel float_sizes(13);
  float_sizes.inputs({"", "", "sizes"}).float_initializer("sizes", {1, 2, 6, 8});
  expect_import_error(float_sizes, {"sizes must be int64"});
  ResizeModel short_scales(13);
  short_scales.inputs({"", "scales"}).float_initializer("scales", {2, 2});
  expect_import_error(short_scales, {"scales has 2 values", "rank 4"});
}

TEST(OnnxImportResize, OlderOpsRefuseDownsamplingAndUpsampleOne) {
  ResizeModel resize10(10);
  resize10.inputs({"s"}).float_initializer("s", {1, 1, 0.5f, 1});
  expect_import_error(resize10, {"opset 10 Resize", "scale below 1", "opset 11"});
  ResizeModel upsample(9, "Upsample");
  upsample.inputs({"s"}).float_initializer("s", {1, 1, 0.5f, 1});
  expect_import_error(upsample, {"opset 9 Upsample", "scale below 1"});
  ResizeModel upsample1(6, "Upsample");
  upsample1.float_attribute("height_scale", 2).float_attribute("width_scale", 2);
  expect_import_error(upsample1, {"Upsample-1"});
}

}  // namespace
}  // namespace octet
