#pragma once
// Test helpers: build small graphs by hand, fill tensors with seeded random numbers, run a graph
// through a Session and compare results. Header-only so graph/ and engine/ tests can share it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "graph/error.hpp"
#include "graph/graph.hpp"
#include "graph/tensor.hpp"

namespace octet::test {

using Attrs = std::vector<std::pair<std::string, AttributeValue>>;

// Message of the octet::Error thrown by `f`; records a test failure if none (or another type) is
// thrown.
template <class F>
std::string error_message(F&& f) {
  try {
    f();
  } catch (const octet::Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected octet::Error, got another exception: " << e.what();
    return {};
  }
  ADD_FAILURE() << "expected octet::Error, nothing was thrown";
  return {};
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

#define OCTET_EXPECT_CONTAINS(text, part)                                              \
  EXPECT_TRUE(::octet::test::contains((text), (part)))                                 \
      << "message \"" << (text) << "\" does not contain \"" << (part) << "\""

inline Tensor random_tensor(const Shape& shape, std::mt19937& rng, float low = -1.0f,
                            float high = 1.0f) {
  Tensor tensor(DType::f32, shape);
  std::uniform_real_distribution<float> dist(low, high);
  float* data = tensor.mutable_data<float>();
  for (int64_t i = 0; i < tensor.elements(); ++i) data[i] = dist(rng);
  return tensor;
}

inline Tensor float_tensor(const Shape& shape, const std::vector<float>& values) {
  Tensor tensor(DType::f32, shape);
  EXPECT_EQ(static_cast<size_t>(tensor.elements()), values.size());
  std::copy(values.begin(), values.end(), tensor.mutable_data<float>());
  return tensor;
}

inline Tensor int64_tensor(const std::vector<int64_t>& values) {
  Tensor tensor(DType::i64, {static_cast<int64_t>(values.size())});
  std::copy(values.begin(), values.end(), tensor.mutable_data<int64_t>());
  return tensor;
}

inline Tensor scalar_tensor(float value) { return float_tensor({}, {value}); }

class GraphBuilder {
 public:
  explicit GraphBuilder(std::string name = "test", uint32_t seed = 1234) : rng_(seed) {
    graph_.name = std::move(name);
  }

  GraphBuilder& input(const std::string& name, const Shape& shape, DType dtype = DType::f32) {
    graph_.inputs.push_back(name);
    graph_.values[name] = ValueInfo{dtype, shape};
    return *this;
  }
  GraphBuilder& output(const std::string& name) {
    graph_.outputs.push_back(name);
    return *this;
  }
  GraphBuilder& constant(const std::string& name, Tensor tensor) {
    graph_.initializers[name] = std::move(tensor);
    return *this;
  }
  GraphBuilder& random_constant(const std::string& name, const Shape& shape, float low = -1.0f,
                                float high = 1.0f) {
    return constant(name, random_tensor(shape, rng_, low, high));
  }
  GraphBuilder& node(const std::string& op, const std::string& name,
                     std::vector<std::string> inputs, std::vector<std::string> outputs,
                     const Attrs& attrs = {}) {
    Node node;
    node.op = op;
    node.name = name;
    node.inputs = std::move(inputs);
    node.outputs = std::move(outputs);
    for (const auto& entry : attrs) node.attrs.set(entry.first, entry.second);
    graph_.nodes.push_back(std::move(node));
    return *this;
  }

  // Conv with a random OIHW weight (and bias when `bias`), named `name.w` / `name.b`.
  GraphBuilder& conv(const std::string& name, const std::string& in, const std::string& out,
                     int64_t in_channels, int64_t out_channels, int64_t kernel, bool bias,
                     const Attrs& attrs = {}, int64_t group = 1) {
    random_constant(name + ".w", {out_channels, in_channels / group, kernel, kernel}, -0.5f, 0.5f);
    std::vector<std::string> inputs = {in, name + ".w"};
    if (bias) {
      random_constant(name + ".b", {out_channels}, -0.5f, 0.5f);
      inputs.push_back(name + ".b");
    }
    Attrs all = attrs;
    if (group != 1) all.emplace_back("group", group);
    return node("Conv", name, inputs, {out}, all);
  }

  // Inference BatchNormalization with random parameters (variance in [0.2, 2]).
  GraphBuilder& batchnorm(const std::string& name, const std::string& in, const std::string& out,
                          int64_t channels, float epsilon = 1e-5f) {
    random_constant(name + ".scale", {channels}, 0.5f, 1.5f);
    random_constant(name + ".shift", {channels}, -0.5f, 0.5f);
    random_constant(name + ".mean", {channels}, -0.3f, 0.3f);
    random_constant(name + ".var", {channels}, 0.2f, 2.0f);
    return node("BatchNormalization", name, {in, name + ".scale", name + ".shift", name + ".mean", name + ".var"},
                {out}, {{"epsilon", epsilon}});
  }

  Graph& graph() { return graph_; }
  Graph build() const { return graph_; }
  std::mt19937& rng() { return rng_; }

 private:
  Graph graph_;
  std::mt19937 rng_;
};

// The small residual network several test suites quantize and run:
// input [1,in,size,size] -> Conv3x3-BN-Relu -> Conv3x3-BN -> + (1x1 projection Conv) -> Relu
//   -> GlobalAveragePool -> Flatten -> Gemm [channels -> classes]
inline Graph residual_test_graph(uint32_t seed, int64_t in_channels, int64_t channels, int64_t size,
                                 int64_t classes) {
  GraphBuilder b("residual", seed);
  b.input("x", {1, in_channels, size, size});
  b.conv("c1", "x", "c1o", in_channels, channels, 3, false, {{"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  b.batchnorm("bn1", "c1o", "bn1o", channels);
  b.node("Relu", "r1", {"bn1o"}, {"r1o"});
  b.conv("c2", "r1o", "c2o", channels, channels, 3, false, {{"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  b.batchnorm("bn2", "c2o", "bn2o", channels);
  b.conv("proj", "x", "projo", in_channels, channels, 1, true);
  b.node("Add", "add", {"bn2o", "projo"}, {"sum"});
  b.node("Relu", "r2", {"sum"}, {"r2o"});
  b.node("GlobalAveragePool", "gap", {"r2o"}, {"gapo"});
  b.node("Flatten", "flat", {"gapo"}, {"flato"});
  b.random_constant("fc.w", {classes, channels}, -1.0f, 1.0f);
  b.random_constant("fc.b", {classes}, -0.1f, 0.1f);
  b.node("Gemm", "fc", {"flato", "fc.w", "fc.b"}, {"y"}, {{"transB", int64_t{1}}});
  b.output("y");
  return b.build();
}

inline std::vector<std::string> node_ops(const Graph& graph) {
  std::vector<std::string> ops;
  for (const auto& node : graph.nodes) ops.push_back(node.op);
  return ops;
}

inline std::vector<std::string> node_names(const Graph& graph) {
  std::vector<std::string> names;
  for (const auto& node : graph.nodes) names.push_back(node.name);
  return names;
}

inline const Node* find_node(const Graph& graph, const std::string& name) {
  for (const auto& node : graph.nodes)
    if (node.name == name) return &node;
  return nullptr;
}

// |a - b| <= rel * max(|b|, 1) for every element (values of order 1 are compared relatively,
// values near 0 absolutely).
inline void expect_close(const Tensor& actual, const Tensor& expected, double rel,
                         const std::string& what = "") {
  ASSERT_EQ(actual.shape(), expected.shape()) << what;
  ASSERT_EQ(actual.dtype(), DType::f32) << what;
  ASSERT_EQ(expected.dtype(), DType::f32) << what;
  const float* a = actual.data<float>();
  const float* b = expected.data<float>();
  int64_t bad = 0;
  for (int64_t i = 0; i < actual.elements(); ++i) {
    const double tolerance = rel * std::max(1.0, std::fabs(static_cast<double>(b[i])));
    if (!(std::fabs(static_cast<double>(a[i]) - b[i]) <= tolerance)) {
      if (++bad <= 5) ADD_FAILURE() << what << " element " << i << ": got " << a[i] << ", expected " << b[i];
    }
  }
  EXPECT_EQ(bad, 0) << what << ": " << bad << " of " << actual.elements() << " elements differ";
}

inline void expect_identical(const Tensor& actual, const Tensor& expected, const std::string& what = "") {
  ASSERT_EQ(actual.shape(), expected.shape()) << what;
  ASSERT_EQ(actual.dtype(), expected.dtype()) << what;
  ASSERT_EQ(actual.dtype(), DType::f32) << what;
  const float* a = actual.data<float>();
  const float* b = expected.data<float>();
  int64_t bad = 0;
  for (int64_t i = 0; i < actual.elements(); ++i)
    if (a[i] != b[i] && ++bad <= 5) ADD_FAILURE() << what << " element " << i << ": " << a[i] << " != " << b[i];
  EXPECT_EQ(bad, 0) << what;
}

}  // namespace octet::test
