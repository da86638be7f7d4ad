// QDQ ONNX export: the exported file passes the ONNX checker, mirrors the int8 graph node for
// node with Octet's own scales, zero points, weights and biases, and — run as ONNX defines it by a
// float simulator (qdq_simulator.hpp, fake quantization at every Q/DQ pair on Octet's fp32
// reference kernels) — agrees with Octet's int8 kernels within 1 LSB for every int8 value when
// each op gets Octet's inputs (fixed-point requantization and integer average pooling vs float
// math + QuantizeLinear rounding), and within a few LSB at the output when running free (those
// 1-LSB differences propagate). Then the refusals (dynamic, fp32), atomic writing, and the
// `octet export` command through the real binary.
#include <gtest/gtest.h>
#include <onnx/checker.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "engine/quantize.hpp"
#include "engine/session.hpp"
#include "graph/model_file.hpp"
#include "graph/onnx/onnx_export.hpp"
#include "tests/graph/graph_builder.hpp"
#include "tests/graph/run_graph.hpp"
#include "tests/onnx_export/qdq_simulator.hpp"
#include "tests/tools/cli_runner.hpp"
#include "tests/tools/onnx_model_writer.hpp"

using namespace octet;
namespace fs = std::filesystem;

namespace {

// The graph of tests/quant/test_quantize_pass.cpp.
Graph residual_graph(uint32_t seed = 7) { return test::residual_test_graph(seed, 2, 4, 8, 3); }

// The other exportable ops: input [1,2,8,8] → Conv-Clip(0,6) → MaxPool 2/2 → grouped Conv-Relu
//   → AveragePool 2/2 → Reshape [1,24] → Gemm (transB=0) [24 → 5]
Graph pooling_graph(uint32_t seed = 11) {
  test::GraphBuilder b("pooling", seed);
  b.input("x", {1, 2, 8, 8});
  b.conv("ca", "x", "cao", 2, 4, 3, true, {{"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  b.constant("clip.min", test::scalar_tensor(0.0f));
  b.constant("clip.max", test::scalar_tensor(6.0f));
  b.node("Clip", "clip", {"cao", "clip.min", "clip.max"}, {"clipo"});
  b.node("MaxPool", "mp", {"clipo"}, {"mpo"},
         {{"kernel_shape", std::vector<int64_t>{2, 2}}, {"strides", std::vector<int64_t>{2, 2}}});
  b.conv("cb", "mpo", "cbo", 4, 6, 3, true, {{"pads", std::vector<int64_t>{1, 1, 1, 1}}}, 2);
  b.node("Relu", "rb", {"cbo"}, {"rbo"});
  b.node("AveragePool", "ap", {"rbo"}, {"apo"},
         {{"kernel_shape", std::vector<int64_t>{2, 2}}, {"strides", std::vector<int64_t>{2, 2}}});
  b.constant("shape", test::int64_tensor({1, -1}));
  b.node("Reshape", "reshape", {"apo", "shape"}, {"flat"});
  b.random_constant("fc.w", {24, 5}, -0.5f, 0.5f);
  b.random_constant("fc.b", {5}, -0.1f, 0.1f);
  b.node("Gemm", "fc", {"flat", "fc.w", "fc.b"}, {"y"});
  b.output("y");
  return b.build();
}

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

Model quantized(Graph graph, bool per_channel = true, std::vector<std::string> keep_float = {}) {
  const Model fp32 = Model::from_graph(std::move(graph));
  quant::QuantizeOptions options;
  options.per_channel_weights = per_channel;
  options.keep_float = std::move(keep_float);
  const auto calibration = random_inputs(32, 1);
  return quantize_model(fp32, options, source_of(calibration));
}

QdqExportOptions with(QdqActivationType type) {
  QdqExportOptions options;
  options.activations = type;
  return options;
}

onnx::ModelProto parse(const std::string& bytes) {
  onnx::ModelProto model;
  EXPECT_TRUE(model.ParseFromString(bytes));
  return model;
}

onnx::ModelProto export_model(const Graph& graph, QdqActivationType type) {
  return parse(export_onnx_qdq_bytes(graph, with(type)));
}

size_t count_ops(const onnx::ModelProto& model, const std::string& op) {
  size_t n = 0;
  for (const auto& node : model.graph().node()) n += node.op_type() == op;
  return n;
}

const onnx::TensorProto* find_initializer(const onnx::ModelProto& model, const std::string& name) {
  for (const auto& init : model.graph().initializer())
    if (init.name() == name) return &init;
  return nullptr;
}

const onnx::NodeProto* producer(const onnx::ModelProto& model, const std::string& value) {
  for (const auto& node : model.graph().node())
    if (node.output(0) == value) return &node;
  return nullptr;
}

template <class T>
std::vector<T> values_of(const onnx::TensorProto& t) {
  std::vector<T> out(t.raw_data().size() / sizeof(T));
  std::memcpy(out.data(), t.raw_data().data(), t.raw_data().size());
  return out;
}

int64_t attribute_int(const onnx::NodeProto& node, const std::string& name, int64_t fallback) {
  for (const auto& a : node.attribute())
    if (a.name() == name) return a.i();
  return fallback;
}

// Records every int8 value Octet's kernels compute, by name.
class Int8Recorder : public ExecutionHook {
 public:
  std::map<std::string, std::vector<int8_t>> values;
  void after(const NodeEvent& event) override {
    for (size_t i = 0; i < event.output_count; ++i)
      if (event.outputs[i].dtype == DType::i8) {
        const int8_t* codes = event.outputs[i].as<const int8_t>();
        values[event.node.outputs[i]].assign(codes, codes + event.outputs[i].elements());
      }
  }
};

// How closely the exported file, run as ONNX defines it, follows Octet's int8 model.
struct Agreement {
  size_t layers = 0;             // int8 values compared
  double worst_layer_lsb = 0;    // largest code difference of any int8 value, Octet's inputs pinned
  std::string worst_layer;
  double pinned_output = 0;      // at the output, the last op fed Octet's int8 inputs
  double free_output = 0;        // at the output, the simulation running on its own codes
  // Unit of the two output numbers: the output's scale when it is dequantized int8 (LSB), else
  // absolute (a float head).
};

Agreement compare(const Model& int8, const onnx::ModelProto& exported, const std::vector<Tensor>& inputs) {
  const Graph& g = int8.graph();
  const std::string output = g.outputs[0];
  const int producer_index = g.producer(output);
  const Node& last = g.nodes.at(static_cast<size_t>(producer_index));
  const double unit = last.op == "DequantizeLinear" ? g.quant.at(last.inputs[0]).scales[0] : 1.0;
  Session session(int8);
  Int8Recorder recorder;
  session.add_hook(&recorder);
  test::QdqSimulator simulator(exported);
  Agreement a;
  for (const Tensor& input : inputs) {
    recorder.values.clear();
    const Tensor expected = test::run_session(session, {input})[0];
    test::SimValue x{input.shape(), std::vector<float>(input.data<float>(), input.data<float>() + input.elements())};
    std::map<std::string, double> deviation;
    const auto pinned = simulator.run({{g.inputs[0], x}}, &recorder.values, &deviation);
    const auto free = simulator.run({{g.inputs[0], x}});
    a.layers = deviation.size();
    // The output's own int8 value is pinned too: its deviation is the last op's.
    if (last.op == "DequantizeLinear") a.pinned_output = std::max(a.pinned_output, deviation.at(last.inputs[0]));
    for (const auto& entry : deviation)
      if (entry.second > a.worst_layer_lsb) {
        a.worst_layer_lsb = entry.second;
        a.worst_layer = entry.first;
      }
    EXPECT_EQ(pinned.at(output).shape, expected.shape());
    for (int64_t i = 0; i < expected.elements(); ++i) {
      const double want = expected.data<float>()[i];
      if (last.op != "DequantizeLinear")
        a.pinned_output = std::max(a.pinned_output, std::fabs(pinned.at(output).data[static_cast<size_t>(i)] - want));
      a.free_output = std::max(a.free_output, std::fabs(free.at(output).data[static_cast<size_t>(i)] - want) / unit);
    }
  }
  return a;
}

TEST(OnnxExport, ExportedModelsPassTheOnnxChecker) {
  for (bool per_channel : {true, false})
    for (const Graph& graph : {residual_graph(), pooling_graph()}) {
      const Model int8 = quantized(graph, per_channel);
      for (QdqActivationType type : {QdqActivationType::u8, QdqActivationType::s8}) {
        SCOPED_TRACE(graph.name + (per_channel ? " per-channel " : " per-tensor ") + qdq_activation_type_name(type));
        const onnx::ModelProto model = export_model(int8.graph(), type);
        EXPECT_EQ(model.ir_version(), 7);
        ASSERT_EQ(model.opset_import_size(), 1);
        EXPECT_EQ(model.opset_import(0).version(), 13);
        EXPECT_NO_THROW(onnx::checker::check_model(model));
        // Float in, float out, as the fp32 model.
        ASSERT_EQ(model.graph().input_size(), 1);
        EXPECT_EQ(model.graph().input(0).name(), "x");
        EXPECT_EQ(model.graph().input(0).type().tensor_type().elem_type(), onnx::TensorProto::FLOAT);
        EXPECT_EQ(model.graph().output(0).name(), "y");
        EXPECT_EQ(model.graph().output(0).type().tensor_type().elem_type(), onnx::TensorProto::FLOAT);
      }
    }
}

TEST(OnnxExport, EveryInt8OpBecomesDequantizeFloatOpQuantize) {
  const Model int8 = quantized(residual_graph());
  const onnx::ModelProto model = export_model(int8.graph(), QdqActivationType::u8);
  EXPECT_EQ(count_ops(model, "Conv"), 3u);
  EXPECT_EQ(count_ops(model, "Gemm"), 1u);
  EXPECT_EQ(count_ops(model, "Add"), 1u);
  EXPECT_EQ(count_ops(model, "GlobalAveragePool"), 1u);
  EXPECT_EQ(count_ops(model, "Flatten"), 1u);
  EXPECT_EQ(count_ops(model, "Relu"), 2u);  // fused into c1 and into the residual Add
  // Q: the graph input + one per int8 op (3 Conv, Add, GAP, Flatten, Gemm).
  EXPECT_EQ(count_ops(model, "QuantizeLinear"), 8u);
  // DQ: one per int8 input of each op (x feeds two convs: each gets its own), weights and
  // biases of 3 Conv + Gemm, and the graph output: 4*3 + 2 + 1 + 1 + 1 = 17.
  EXPECT_EQ(count_ops(model, "DequantizeLinear"), 17u);
  EXPECT_EQ(static_cast<size_t>(model.graph().node_size()), 8u + 17u + 3u + 1u + 1u + 1u + 1u + 2u);
  // Each DQ feeds exactly one node (ONNX Runtime's QDQ selectors want dedicated pairs).
  std::map<std::string, int> readers;
  for (const auto& node : model.graph().node())
    for (const auto& input : node.input()) ++readers[input];
  for (const auto& node : model.graph().node())
    if (node.op_type() == "DequantizeLinear" && node.output(0) != "y") {
      EXPECT_EQ(readers[node.output(0)], 1) << node.name();
    }
  // Octet's node names are kept for the nodes they name.
  EXPECT_NE(producer(model, "y"), nullptr);
  EXPECT_EQ(producer(model, "y")->name(), "y.dequantize");
  // The Conv and Gemm read DQ(x), DQ(w), DQ(b); Gemm with transB=1 ([N,K] weights).
  for (const auto& node : model.graph().node()) {
    if (node.op_type() != "Conv" && node.op_type() != "Gemm") continue;
    ASSERT_EQ(node.input_size(), 3) << node.name();
    for (const auto& input : node.input()) {
      const onnx::NodeProto* p = producer(model, input);
      ASSERT_NE(p, nullptr);
      EXPECT_EQ(p->op_type(), "DequantizeLinear") << node.name() << " input " << input;
    }
    if (node.op_type() == "Gemm") {
      EXPECT_EQ(attribute_int(node, "transB", 0), 1);
    }
  }
}

TEST(OnnxExport, InitializerTypesScalesAndCodesAreOctets) {
  for (bool per_channel : {true, false})
    for (QdqActivationType type : {QdqActivationType::u8, QdqActivationType::s8}) {
      SCOPED_TRACE(std::string(per_channel ? "per-channel " : "per-tensor ") + qdq_activation_type_name(type));
      const Model int8 = quantized(residual_graph(), per_channel);
      const Graph& g = int8.graph();
      const onnx::ModelProto model = export_model(g, type);
      const bool u8 = type == QdqActivationType::u8;
      size_t activations = 0, weights = 0, biases = 0;
      for (const auto& node : model.graph().node()) {
        if (node.op_type() != "QuantizeLinear" && node.op_type() != "DequantizeLinear") continue;
        const std::string& coded = node.op_type() == "QuantizeLinear" ? node.output(0) : node.input(0);
        const onnx::TensorProto* scale = find_initializer(model, node.input(1));
        const onnx::TensorProto* zero_point = find_initializer(model, node.input(2));
        ASSERT_TRUE(scale && zero_point) << node.name();
        ASSERT_EQ(scale->data_type(), onnx::TensorProto::FLOAT);
        const onnx::TensorProto* codes = find_initializer(model, coded);
        // Biases carry no qparams of their own in Octet's graph (their scale is s_x * s_w):
        // checked in the bias branch below.
        const bool bias = codes && codes->data_type() == onnx::TensorProto::INT32;
        static const QuantParams none;
        const QuantParams& q = bias ? none : g.quant.at(coded);
        if (!bias) {
          EXPECT_EQ(values_of<float>(*scale).size(), q.scales.size());
        }
        if (!codes) {  // an activation: per tensor, zero point shifted by 128 in u8 mode
          ++activations;
          EXPECT_EQ(scale->dims_size(), 0);
          EXPECT_EQ(values_of<float>(*scale)[0], q.scales[0]) << coded;
          if (u8) {
            ASSERT_EQ(zero_point->data_type(), onnx::TensorProto::UINT8);
            EXPECT_EQ(values_of<uint8_t>(*zero_point)[0], q.zero_points[0] + 128) << coded;
          } else {
            ASSERT_EQ(zero_point->data_type(), onnx::TensorProto::INT8);
            EXPECT_EQ(values_of<int8_t>(*zero_point)[0], q.zero_points[0]) << coded;
          }
        } else if (codes->data_type() == onnx::TensorProto::INT8) {  // weights: Octet's codes, bytes for bytes
          ++weights;
          const Tensor& w = *g.initializer(coded);
          EXPECT_EQ(codes->raw_data(), std::string(static_cast<const char*>(w.raw()), w.bytes()));
          EXPECT_EQ(values_of<float>(*scale), q.scales);
          EXPECT_EQ(zero_point->data_type(), onnx::TensorProto::INT8);
          EXPECT_EQ(attribute_int(node, "axis", -1), per_channel ? 0 : -1);
          EXPECT_EQ(scale->dims_size(), per_channel ? 1 : 0);
        } else {  // biases: int32, scale s_x * s_w[c], zero point 0
          ++biases;
          ASSERT_EQ(codes->data_type(), onnx::TensorProto::INT32);
          EXPECT_EQ(values_of<int32_t>(*codes),
                    std::vector<int32_t>(g.initializer(coded)->data<int32_t>(),
                                         g.initializer(coded)->data<int32_t>() + g.initializer(coded)->elements()));
          EXPECT_EQ(zero_point->data_type(), onnx::TensorProto::INT32);
          for (int32_t zp : values_of<int32_t>(*zero_point)) EXPECT_EQ(zp, 0);
          // The node reading this DQ is a Conv/Gemm whose first input is DQ(x), second DQ(w).
          const onnx::NodeProto* reader = nullptr;
          for (const auto& n : model.graph().node())
            if (n.input_size() > 2 && n.input(2) == node.output(0)) reader = &n;
          ASSERT_NE(reader, nullptr);
          const float sx = g.quant.at(producer(model, reader->input(0))->input(0)).scales[0];
          const std::vector<float>& sw = g.quant.at(producer(model, reader->input(1))->input(0)).scales;
          const std::vector<float> bias_scales = values_of<float>(*scale);
          ASSERT_EQ(bias_scales.size(), sw.size());
          for (size_t c = 0; c < sw.size(); ++c) EXPECT_EQ(bias_scales[c], sx * sw[c]);
        }
      }
      EXPECT_EQ(activations, 8u + 9u);  // 8 Q + 9 activation DQs (the output's included)
      EXPECT_EQ(weights, 4u);
      EXPECT_EQ(biases, 4u);
    }
}

TEST(OnnxExport, PoolingReshapeClipAndGroupedConvAreExported) {
  const Model int8 = quantized(pooling_graph());
  const onnx::ModelProto model = export_model(int8.graph(), QdqActivationType::u8);
  EXPECT_EQ(count_ops(model, "Clip"), 1u);
  EXPECT_EQ(count_ops(model, "Relu"), 1u);
  EXPECT_EQ(count_ops(model, "MaxPool"), 1u);
  EXPECT_EQ(count_ops(model, "AveragePool"), 1u);
  EXPECT_EQ(count_ops(model, "Reshape"), 1u);
  EXPECT_EQ(count_ops(model, "Gemm"), 1u);
  for (const auto& node : model.graph().node()) {
    if (node.op_type() == "Reshape") {
      const onnx::TensorProto* shape = find_initializer(model, node.input(1));
      ASSERT_NE(shape, nullptr);
      EXPECT_EQ(shape->data_type(), onnx::TensorProto::INT64);
    }
    if (node.op_type() == "Clip") {
      ASSERT_EQ(node.input_size(), 3);
      EXPECT_EQ(values_of<float>(*find_initializer(model, node.input(1)))[0], 0.0f);
      EXPECT_EQ(values_of<float>(*find_initializer(model, node.input(2)))[0], 6.0f);
    }
    if (node.op_type() == "Conv" && node.name() == "cb") {
      EXPECT_EQ(attribute_int(node, "group", 1), 2);
    }
  }
}

// Conv → Resize 2× (PyTorch's asymmetric/floor, scales) → Conv → Add(skip from the upsampled
// map) → Resize to 5×5 (half_pixel, sizes).
Graph upsampling_graph(uint32_t seed = 13) {
  test::GraphBuilder b("upsampling", seed);
  b.input("x", {1, 2, 8, 8});
  b.conv("c1", "x", "c1o", 2, 4, 3, true, {{"pads", std::vector<int64_t>{1, 1, 1, 1}}, {"strides", std::vector<int64_t>{2, 2}}});
  b.node("Resize", "up", {"c1o"}, {"upo"},
         {{"mode", std::string("nearest")}, {"coordinate_transformation_mode", std::string("asymmetric")},
          {"nearest_mode", std::string("floor")}, {"scales", std::vector<float>{1, 1, 2, 2}}});
  b.conv("c2", "upo", "c2o", 4, 4, 3, true, {{"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  b.node("Add", "skip", {"c2o", "upo"}, {"sum"});
  b.node("Resize", "fit", {"sum"}, {"y"}, {{"sizes", std::vector<int64_t>{1, 4, 5, 5}}});
  b.output("y");
  return b.build();
}

TEST(OnnxExport, ResizeGetsItsScalesOrSizesBackAsInputs) {
  const Model int8 = quantized(upsampling_graph());
  size_t int8_values = 0;
  for (const auto& entry : int8.graph().values)
    int8_values += entry.second.dtype == DType::i8 && !int8.graph().is_initializer(entry.first);
  for (QdqActivationType type : {QdqActivationType::u8, QdqActivationType::s8}) {
    SCOPED_TRACE(qdq_activation_type_name(type));
    const onnx::ModelProto model = export_model(int8.graph(), type);
    EXPECT_NO_THROW(onnx::checker::check_model(model));
    ASSERT_EQ(count_ops(model, "Resize"), 2u);
    for (const auto& node : model.graph().node()) {
      if (node.op_type() != "Resize") continue;
      EXPECT_EQ(producer(model, node.input(0))->op_type(), "DequantizeLinear") << node.name();
      EXPECT_EQ(node.input(1), "") << "roi";
      for (const auto& attribute : node.attribute()) {
        EXPECT_NE(attribute.name(), "scales");
        EXPECT_NE(attribute.name(), "sizes");
      }
      if (node.name() == "up") {
        ASSERT_EQ(node.input_size(), 3);
        const onnx::TensorProto* scales = find_initializer(model, node.input(2));
        ASSERT_NE(scales, nullptr);
        EXPECT_EQ(scales->data_type(), onnx::TensorProto::FLOAT);
        EXPECT_EQ(values_of<float>(*scales), (std::vector<float>{1, 1, 2, 2}));
      } else {
        ASSERT_EQ(node.input_size(), 4);
        EXPECT_EQ(node.input(2), "");
        const onnx::TensorProto* sizes = find_initializer(model, node.input(3));
        ASSERT_NE(sizes, nullptr);
        EXPECT_EQ(sizes->data_type(), onnx::TensorProto::INT64);
        EXPECT_EQ(values_of<int64_t>(*sizes), (std::vector<int64_t>{1, 4, 5, 5}));
      }
    }
    // A nearest resize copies codes: run as ONNX defines it, it agrees exactly with Octet; the
    // convolutions and the Add within their 1 LSB.
    const Agreement a = compare(int8, model, random_inputs(8, 14));
    EXPECT_EQ(a.layers, int8_values);
    EXPECT_LE(a.worst_layer_lsb, 1.0) << a.worst_layer;
    EXPECT_LE(a.pinned_output, 1e-9);
    EXPECT_LE(a.free_output, 3.0 + 1e-3);
  }
}

TEST(OnnxExport, FloatSimulationOfTheFileMatchesOctetInt8WithinOneLsb) {
  const auto inputs = random_inputs(24, 5);
  for (bool per_channel : {true, false})
    for (const Graph& graph : {residual_graph(), pooling_graph()}) {
      const Model int8 = quantized(graph, per_channel);
      size_t int8_values = 0;
      for (const auto& entry : int8.graph().values)
        int8_values += entry.second.dtype == DType::i8 && !int8.graph().is_initializer(entry.first);
      for (QdqActivationType type : {QdqActivationType::u8, QdqActivationType::s8}) {
        SCOPED_TRACE(graph.name + (per_channel ? " per-channel " : " per-tensor ") + qdq_activation_type_name(type));
        const Agreement a = compare(int8, export_model(int8.graph(), type), inputs);
        // Layer by layer (each op fed Octet's own int8 inputs): fixed-point requantization and
        // integer average pooling vs float math + QuantizeLinear differ by at most 1 LSB.
        EXPECT_EQ(a.layers, int8_values);
        EXPECT_LE(a.worst_layer_lsb, 1.0) << a.worst_layer;
        EXPECT_LE(a.pinned_output, 1.0 + 1e-3);
        // Free running, those 1-LSB differences propagate through the later layers.
        EXPECT_LE(a.free_output, 3.0 + 1e-3);
        std::printf("[ info     ] %s %s %s: worst layer %.0f LSB (%s), output %.3f LSB pinned, %.3f LSB free\n",
                    graph.name.c_str(), per_channel ? "per-channel" : "per-tensor", qdq_activation_type_name(type),
                    a.worst_layer_lsb, a.worst_layer.c_str(), a.pinned_output, a.free_output);
      }
    }
}

TEST(OnnxExport, Uint8AndInt8ActivationsComputeTheSameValues) {
  const Model int8 = quantized(residual_graph());
  const onnx::ModelProto u8 = export_model(int8.graph(), QdqActivationType::u8);
  const onnx::ModelProto s8 = export_model(int8.graph(), QdqActivationType::s8);
  test::QdqSimulator sim_u8(u8), sim_s8(s8);
  for (const Tensor& input : random_inputs(8, 6)) {
    test::SimValue x{input.shape(), std::vector<float>(input.data<float>(), input.data<float>() + input.elements())};
    const auto a = sim_u8.run({{"x", x}});
    const auto b = sim_s8.run({{"x", x}});
    for (const auto& entry : a) {
      if (entry.second.type == onnx::TensorProto::FLOAT) {
        EXPECT_EQ(entry.second.data, b.at(entry.first).data) << entry.first;
      } else if (entry.second.type == onnx::TensorProto::UINT8 && !find_initializer(u8, entry.first)) {
        for (size_t i = 0; i < entry.second.data.size(); ++i)
          ASSERT_EQ(entry.second.data[i], b.at(entry.first).data[i] + 128.0f) << entry.first;
      }
    }
  }
}

TEST(OnnxExport, NodesKeptInFloatAreExportedAsFloat) {
  const Model int8 = quantized(residual_graph(), true, {"fc"});
  const onnx::ModelProto model = export_model(int8.graph(), QdqActivationType::u8);
  EXPECT_NO_THROW(onnx::checker::check_model(model));
  const onnx::NodeProto* fc = producer(model, "y");
  ASSERT_NE(fc, nullptr);
  EXPECT_EQ(fc->op_type(), "Gemm");
  EXPECT_EQ(find_initializer(model, fc->input(1))->data_type(), onnx::TensorProto::FLOAT);
  EXPECT_EQ(producer(model, fc->input(0))->op_type(), "DequantizeLinear");
  const Agreement a = compare(int8, model, random_inputs(8, 7));
  EXPECT_LE(a.worst_layer_lsb, 1.0) << a.worst_layer;
  EXPECT_LE(a.pinned_output, 1e-5);  // float head on the same int8 input: float rounding only
}

class OnnxExportFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("octet_onnx_export_" + std::to_string(getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  size_t files_in_dir() const { return static_cast<size_t>(std::distance(fs::directory_iterator(dir_), fs::directory_iterator())); }

  fs::path dir_;
};

TEST_F(OnnxExportFiles, RefusesDynamicAndFp32GraphsWithoutTouchingTheFile) {
  const Model fp32 = Model::from_graph(residual_graph());
  quant::QuantizeOptions options;
  options.mode = quant::QuantizationMode::dynamic_int8;
  const Model dynamic = quantize_model(fp32, options, {});
  test::write_bytes(path("out.onnx"), "previous contents");
  const std::string dynamic_error = test::error_message([&] { export_onnx_qdq(dynamic.graph(), path("out.onnx")); });
  OCTET_EXPECT_CONTAINS(dynamic_error, "dynamic");
  OCTET_EXPECT_CONTAINS(dynamic_error, "DynQConv");
  const std::string fp32_error = test::error_message([&] { export_onnx_qdq(fp32.graph(), path("out.onnx")); });
  OCTET_EXPECT_CONTAINS(fp32_error, "not quantized");
  EXPECT_EQ(test::slurp(path("out.onnx")), "previous contents");
  EXPECT_EQ(files_in_dir(), 1u);  // no temporary left behind
}

TEST_F(OnnxExportFiles, WritesAtomicallyAndReportsUnwritablePaths) {
  const Model int8 = quantized(residual_graph());
  export_onnx_qdq(int8.graph(), path("model.onnx"));
  onnx::ModelProto model;
  std::ifstream file(path("model.onnx"), std::ios::binary);
  ASSERT_TRUE(model.ParseFromIstream(&file));
  EXPECT_NO_THROW(onnx::checker::check_model(model));
  // The default activation type is the platform's (uint8 on x86).
  bool found = false;
  for (const auto& prop : model.metadata_props())
    if (prop.key() == "octet.export.activations") {
      found = true;
      EXPECT_EQ(prop.value(), qdq_activation_type_name(default_qdq_activation_type()));
    }
  EXPECT_TRUE(found);
  export_onnx_qdq(int8.graph(), path("model.onnx"));  // replaces an existing file
  EXPECT_EQ(files_in_dir(), 1u);
  const std::string missing = path("no/such/dir/model.onnx");
  OCTET_EXPECT_CONTAINS(test::error_message([&] { export_onnx_qdq(int8.graph(), missing); }), missing);
}

// `octet export` through the real binary: one stdout line on success, one stderr line and no
// file on failure.
class OnnxExportCli : public OnnxExportFiles {
 protected:
  void SetUp() override {
    OnnxExportFiles::SetUp();
    int8_ = path("int8.oct");
    save_model_file(quantized(residual_graph()).graph(), int8_);
  }
  static void expect_one_line_error(const test::CliResult& result, const std::string& mention) {
    EXPECT_FALSE(result.crashed);
    EXPECT_NE(result.exit_code, 0);
    const auto lines = result.err_lines();
    ASSERT_EQ(lines.size(), 1u) << result.err;
    EXPECT_EQ(lines[0].rfind("octet: error: ", 0), 0u) << lines[0];
    OCTET_EXPECT_CONTAINS(lines[0], mention);
    EXPECT_TRUE(result.out.empty()) << result.out;
  }
  std::string int8_;
};

TEST_F(OnnxExportCli, ExportsAnOctFileInBothActivationTypes) {
  for (const std::string type : {"u8", "s8"}) {
    const std::string out = path("qdq_" + type + ".onnx");
    const test::CliResult result =
        test::run_octet({"export", int8_, "--format", "onnx-qdq", "-o", out, "--activations", type});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_TRUE(result.err.empty()) << result.err;
    OCTET_EXPECT_CONTAINS(result.out, type + " activations");
    onnx::ModelProto model;
    std::ifstream file(out, std::ios::binary);
    ASSERT_TRUE(model.ParseFromIstream(&file));
    EXPECT_NO_THROW(onnx::checker::check_model(model));
    bool uint8_zero_point = false;
    for (const auto& init : model.graph().initializer()) uint8_zero_point |= init.data_type() == onnx::TensorProto::UINT8;
    EXPECT_EQ(uint8_zero_point, type == "u8");
  }
  // --format defaults to onnx-qdq.
  EXPECT_EQ(test::run_octet({"export", int8_, "-o", path("default.onnx")}).exit_code, 0);
}

TEST_F(OnnxExportCli, ErrorsAreOneLineAndLeaveNoFile) {
  const std::string out = path("out.onnx");
  // A dynamic-mode model.
  const Model fp32 = Model::from_graph(residual_graph());
  quant::QuantizeOptions options;
  options.mode = quant::QuantizationMode::dynamic_int8;
  save_model_file(quantize_model(fp32, options, {}).graph(), path("dynamic.oct"));
  expect_one_line_error(test::run_octet({"export", path("dynamic.oct"), "-o", out}), "dynamic");
  // An fp32 ONNX model.
  test::write_bytes(path("fp32.onnx"), test::serialize(test::tiny_conv_model()));
  expect_one_line_error(test::run_octet({"export", path("fp32.onnx"), "-o", out}), "not quantized");
  // Bad options and paths.
  expect_one_line_error(test::run_octet({"export", int8_, "--format", "tflite", "-o", out}), "--format");
  expect_one_line_error(test::run_octet({"export", int8_, "--activations", "u16", "-o", out}), "--activations");
  expect_one_line_error(test::run_octet({"export", path("missing.oct"), "-o", out}), "missing.oct");
  expect_one_line_error(test::run_octet({"export", int8_, "-o", path("no/dir/out.onnx")}), "no/dir/out.onnx");
  expect_one_line_error(test::run_octet({"export", int8_}), "--output");
  EXPECT_FALSE(fs::exists(out));
  EXPECT_EQ(files_in_dir(), 3u);  // int8.oct, dynamic.oct, fp32.onnx
}

}  // namespace
