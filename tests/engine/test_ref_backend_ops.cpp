// Single-op graphs run through Model + Session on the ref backend, checked against naive
// computations written here: the glue between graph attributes and kernel parameters (Gemm
// alpha/beta/bias broadcast, MatMul batch broadcast, Add strides, Softmax axis, auto_pad, ...).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include "engine/model.hpp"
#include "engine/session.hpp"
#include "tests/graph/graph_builder.hpp"
#include "tests/graph/run_graph.hpp"

namespace octet {
namespace {

using test::GraphBuilder;

std::vector<int64_t> ints(std::initializer_list<int64_t> values) { return values; }

Tensor run_single(Graph graph, const std::vector<Tensor>& inputs) {
  auto outputs = test::run_graph(std::move(graph), false, inputs);
  EXPECT_EQ(outputs.size(), 1u);
  return outputs.at(0);
}

// Index helpers for row-major tensors.
int64_t offset_of(const Shape& shape, const std::vector<int64_t>& index) {
  int64_t flat = 0;
  for (size_t i = 0; i < shape.size(); ++i) flat = flat * shape[i] + index[i];
  return flat;
}
std::vector<int64_t> index_of(const Shape& shape, int64_t flat) {
  std::vector<int64_t> index(shape.size());
  for (size_t i = shape.size(); i-- > 0;) {
    index[i] = flat % shape[i];
    flat /= shape[i];
  }
  return index;
}
// Reads `t` (shape right-aligned against `index`'s rank) with NumPy broadcasting.
float broadcast_read(const Tensor& t, const std::vector<int64_t>& index) {
  const Shape& shape = t.shape();
  std::vector<int64_t> own(shape.size());
  const size_t lead = index.size() - shape.size();
  for (size_t i = 0; i < shape.size(); ++i) own[i] = shape[i] == 1 ? 0 : index[lead + i];
  return t.data<float>()[offset_of(shape, own)];
}

TEST(EngineRefOps, GemmAlphaBetaTransposesAndBiasBroadcast) {
  const int64_t m = 3, n = 4, k = 5;
  const std::vector<Shape> bias_shapes = {{}, {1}, {n}, {1, n}, {m, 1}, {m, n}};
  std::mt19937 rng(1);
  for (int trans = 0; trans < 4; ++trans)
    for (const Shape& c_shape : bias_shapes) {
      const bool ta = trans & 1, tb = trans & 2;
      GraphBuilder b("gemm", 2);
      b.input("a", ta ? Shape{k, m} : Shape{m, k});
      b.constant("w", test::random_tensor(tb ? Shape{n, k} : Shape{k, n}, rng));
      b.constant("c", test::random_tensor(c_shape, rng));
      b.node("Gemm", "g", {"a", "w", "c"}, {"y"},
             {{"transA", int64_t{ta}}, {"transB", int64_t{tb}}, {"alpha", 0.75f}, {"beta", -1.5f}});
      b.output("y");
      const Graph graph = b.build();
      const Tensor a = test::random_tensor(ta ? Shape{k, m} : Shape{m, k}, rng);
      const Tensor y = run_single(graph, {a});
      const Tensor& w = graph.initializers.at("w");
      const Tensor& c = graph.initializers.at("c");
      ASSERT_EQ(y.shape(), (Shape{m, n}));
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
          double sum = 0.0;
          for (int64_t p = 0; p < k; ++p)
            sum += static_cast<double>(a.data<float>()[ta ? p * m + i : i * k + p]) *
                   w.data<float>()[tb ? j * k + p : p * n + j];
          const double expected = 0.75 * sum - 1.5 * broadcast_read(c, {i, j});
          EXPECT_NEAR(y.data<float>()[i * n + j], expected, 1e-5)
              << "transA " << ta << " transB " << tb << " C " << shape_str(c_shape) << " at " << i << "," << j;
        }
    }
}

TEST(EngineRefOps, MatMulBatchBroadcast) {
  struct Case {
    Shape a, b;
  };
  const std::vector<Case> cases = {{{3, 4}, {4, 5}},          {{2, 3, 4}, {4, 5}},       {{3, 4}, {2, 4, 5}},
                                   {{2, 1, 3, 4}, {5, 4, 6}}, {{1, 2, 3, 4}, {3, 1, 4, 2}}, {{2, 3, 2, 4}, {2, 1, 4, 3}}};
  std::mt19937 rng(3);
  for (const Case& c : cases) {
    GraphBuilder b("matmul", 4);
    b.input("a", c.a);
    b.input("b", c.b);
    b.node("MatMul", "mm", {"a", "b"}, {"y"});
    b.output("y");
    const Tensor ta = test::random_tensor(c.a, rng), tb = test::random_tensor(c.b, rng);
    const Tensor y = run_single(b.build(), {ta, tb});
    const int64_t m = c.a[c.a.size() - 2], k = c.a.back(), n = c.b.back();
    for (int64_t flat = 0; flat < y.elements(); ++flat) {
      const std::vector<int64_t> index = index_of(y.shape(), flat);
      // The operand's batch index: right-aligned, size-1 axes broadcast.
      auto element = [&](const Tensor& t, int64_t row, int64_t col) {
        std::vector<int64_t> own(t.shape().size());
        const size_t lead = index.size() - own.size();
        for (size_t i = 0; i + 2 < own.size(); ++i) own[i] = t.shape()[i] == 1 ? 0 : index[lead + i];
        own[own.size() - 2] = row;
        own[own.size() - 1] = col;
        return static_cast<double>(t.data<float>()[offset_of(t.shape(), own)]);
      };
      const int64_t i = index[index.size() - 2], j = index.back();
      double sum = 0.0;
      for (int64_t p = 0; p < k; ++p) sum += element(ta, i, p) * element(tb, p, j);
      ASSERT_NEAR(y.data<float>()[flat], sum, 1e-5) << shape_str(c.a) << " x " << shape_str(c.b) << " flat " << flat;
    }
    EXPECT_EQ(y.shape()[y.shape().size() - 2], m);
    EXPECT_EQ(y.shape().back(), n);
  }
}

TEST(EngineRefOps, AddBroadcastAndFusedRelu) {
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{2, 3, 4}, {2, 3, 4}}, {{2, 3, 4}, {4}}, {{2, 3, 4}, {3, 1}}, {{4, 1, 5}, {3, 1}}, {{1}, {2, 2}}, {{}, {3}}};
  std::mt19937 rng(5);
  for (bool relu : {false, true})
    for (const auto& c : cases) {
      GraphBuilder b("add", 6);
      b.input("a", c.first);
      b.input("b", c.second);
      test::Attrs attrs;
      if (relu) attrs = {{"activation", std::string("Relu")}, {"activation_min", 0.0f}};
      b.node("Add", "add", {"a", "b"}, {"y"}, attrs);
      b.output("y");
      const Tensor ta = test::random_tensor(c.first, rng), tb = test::random_tensor(c.second, rng);
      const Tensor y = run_single(b.build(), {ta, tb});
      for (int64_t flat = 0; flat < y.elements(); ++flat) {
        const auto index = index_of(y.shape(), flat);
        float expected = broadcast_read(ta, index) + broadcast_read(tb, index);
        if (relu) expected = std::max(expected, 0.0f);
        ASSERT_EQ(y.data<float>()[flat], expected) << shape_str(c.first) << " + " << shape_str(c.second);
      }
    }
}

TEST(EngineRefOps, SoftmaxOverEveryAxis) {
  const Shape shape{2, 3, 4};
  std::mt19937 rng(7);
  const Tensor x = test::random_tensor(shape, rng, -3.0f, 3.0f);
  for (int64_t axis = -3; axis < 3; ++axis) {
    GraphBuilder b("softmax", 8);
    b.input("x", shape);
    b.node("Softmax", "sm", {"x"}, {"y"}, {{"axis", axis}});
    b.output("y");
    const Tensor y = run_single(b.build(), {x});
    const size_t along = static_cast<size_t>(axis < 0 ? axis + 3 : axis);
    for (int64_t flat = 0; flat < y.elements(); ++flat) {
      std::vector<int64_t> index = index_of(shape, flat);
      double denominator = 0.0;
      std::vector<int64_t> other = index;
      for (int64_t j = 0; j < shape[along]; ++j) {
        other[along] = j;
        denominator += std::exp(static_cast<double>(x.data<float>()[offset_of(shape, other)]));
      }
      const double expected = std::exp(static_cast<double>(x.data<float>()[flat])) / denominator;
      ASSERT_NEAR(y.data<float>()[flat], expected, 1e-6) << "axis " << axis << " flat " << flat;
    }
  }
}

TEST(EngineRefOps, ConvAutoPadMatchesExplicitPads) {
  // 7x8 input, 3x3 kernel, stride 2: SAME_UPPER pads (top,left,bottom,right) = (1,0,1,1),
  // SAME_LOWER = (1,1,1,0).
  std::mt19937 rng(9);
  const Tensor x = test::random_tensor({1, 2, 7, 8}, rng);
  const Tensor w = test::random_tensor({3, 2, 3, 3}, rng);
  auto conv = [&](const test::Attrs& attrs) {
    GraphBuilder b("conv", 10);
    b.input("x", {1, 2, 7, 8});
    b.constant("w", w);
    test::Attrs all = attrs;
    all.emplace_back("strides", ints({2, 2}));
    b.node("Conv", "conv", {"x", "w"}, {"y"}, all);
    b.output("y");
    return run_single(b.build(), {x});
  };
  const Tensor upper = conv({{"auto_pad", std::string("SAME_UPPER")}});
  const Tensor lower = conv({{"auto_pad", std::string("SAME_LOWER")}});
  EXPECT_EQ(upper.shape(), (Shape{1, 3, 4, 4}));
  test::expect_identical(upper, conv({{"pads", ints({1, 0, 1, 1})}}), "SAME_UPPER");
  test::expect_identical(lower, conv({{"pads", ints({1, 1, 1, 0})}}), "SAME_LOWER");
  bool differ = false;
  for (int64_t i = 0; i < upper.elements(); ++i) differ = differ || upper.data<float>()[i] != lower.data<float>()[i];
  EXPECT_TRUE(differ) << "SAME_UPPER and SAME_LOWER should place the odd padding differently";
  test::expect_identical(conv({{"auto_pad", std::string("VALID")}, {"pads", ints({1, 1, 1, 1})}}),
                         conv({}), "VALID ignores pads");
}

TEST(EngineRefOps, PoolingThroughTheGraph) {
  // 1x1x5x5 input 0..24; MaxPool 2x2/2 pad 1 ceil_mode -> 3x3, AveragePool same with and without
  // count_include_pad; GlobalAveragePool.
  Tensor x(DType::f32, {1, 1, 5, 5});
  for (int i = 0; i < 25; ++i) x.mutable_data<float>()[i] = static_cast<float>(i);
  auto pool = [&](const std::string& op, const test::Attrs& extra) {
    GraphBuilder b("pool", 11);
    b.input("x", {1, 1, 5, 5});
    test::Attrs attrs = {{"kernel_shape", ints({2, 2})}, {"strides", ints({2, 2})}, {"pads", ints({1, 1, 1, 1})},
                         {"ceil_mode", int64_t{1}}};
    attrs.insert(attrs.end(), extra.begin(), extra.end());
    b.node(op, "p", {"x"}, {"y"}, attrs);
    b.output("y");
    return run_single(b.build(), {x});
  };
  // Windows rows/cols: {-1,0}, {1,2}, {3,4}.
  const Tensor max = pool("MaxPool", {});
  EXPECT_EQ(max.shape(), (Shape{1, 1, 3, 3}));
  test::expect_identical(max, test::float_tensor({1, 1, 3, 3}, {0, 2, 4, 10, 12, 14, 20, 22, 24}), "max");
  const Tensor exclude = pool("AveragePool", {});
  test::expect_identical(exclude, test::float_tensor({1, 1, 3, 3}, {0, 1.5f, 3.5f, 7.5f, 9, 11, 17.5f, 19, 21}),
                         "average");
  const Tensor include = pool("AveragePool", {{"count_include_pad", int64_t{1}}});
  test::expect_identical(include,
                         test::float_tensor({1, 1, 3, 3}, {0, 0.75f, 1.75f, 3.75f, 9, 11, 8.75f, 19, 21}),
                         "average count_include_pad");

  GraphBuilder g("gap", 12);
  g.input("x", {1, 1, 5, 5});
  g.node("GlobalAveragePool", "gap", {"x"}, {"y"});
  g.output("y");
  test::expect_identical(run_single(g.build(), {x}), test::float_tensor({1, 1, 1, 1}, {12.0f}), "gap");
}

TEST(EngineRefOps, LayoutOps) {
  std::mt19937 rng(13);
  const Tensor x = test::random_tensor({2, 3, 4}, rng);
  // Reshape and Flatten keep the bytes.
  GraphBuilder r("reshape", 14);
  r.input("x", {2, 3, 4});
  r.constant("shape", test::int64_tensor({0, -1}));
  r.node("Reshape", "r", {"x", "shape"}, {"y"});
  r.output("y");
  const Tensor reshaped = run_single(r.build(), {x});
  EXPECT_EQ(reshaped.shape(), (Shape{2, 12}));
  EXPECT_EQ(std::memcmp(reshaped.raw(), x.raw(), x.bytes()), 0);
  GraphBuilder f("flatten", 15);
  f.input("x", {2, 3, 4});
  f.node("Flatten", "f", {"x"}, {"y"}, {{"axis", int64_t{-1}}});
  f.output("y");
  const Tensor flat = run_single(f.build(), {x});
  EXPECT_EQ(flat.shape(), (Shape{6, 4}));
  EXPECT_EQ(std::memcmp(flat.raw(), x.raw(), x.bytes()), 0);
  // Transpose, explicit and default permutation.
  for (const std::vector<int64_t>& perm : {std::vector<int64_t>{1, 2, 0}, std::vector<int64_t>{}}) {
    GraphBuilder t("transpose", 16);
    t.input("x", {2, 3, 4});
    test::Attrs attrs;
    if (!perm.empty()) attrs.emplace_back("perm", perm);
    t.node("Transpose", "t", {"x"}, {"y"}, attrs);
    t.output("y");
    const Tensor y = run_single(t.build(), {x});
    const std::vector<int64_t> p = perm.empty() ? std::vector<int64_t>{2, 1, 0} : perm;
    for (int64_t flat_index = 0; flat_index < y.elements(); ++flat_index) {
      const auto o = index_of(y.shape(), flat_index);
      std::vector<int64_t> i(3);
      for (size_t axis = 0; axis < 3; ++axis) i[static_cast<size_t>(p[axis])] = o[axis];
      ASSERT_EQ(y.data<float>()[flat_index], x.data<float>()[offset_of(x.shape(), i)]);
    }
  }
}

TEST(EngineRefOps, BatchNormAndClip) {
  GraphBuilder b("bn_clip", 17);
  b.input("x", {2, 3, 2, 2});
  b.batchnorm("bn", "x", "n", 3, 1e-2f);
  b.constant("lo", test::scalar_tensor(-0.5f));
  b.constant("hi", test::scalar_tensor(0.5f));
  b.node("Clip", "clip", {"n", "lo", "hi"}, {"y"});
  b.output("y");
  const Graph graph = b.build();
  std::mt19937 rng(18);
  const Tensor x = test::random_tensor({2, 3, 2, 2}, rng, -2.0f, 2.0f);
  const Tensor y = run_single(graph, {x});
  auto param = [&](const char* name, int64_t c) {
    return static_cast<double>(graph.initializers.at(std::string("bn.") + name).data<float>()[c]);
  };
  for (int64_t flat = 0; flat < y.elements(); ++flat) {
    const int64_t c = (flat / 4) % 3;
    const double normalized = param("scale", c) * (x.data<float>()[flat] - param("mean", c)) /
                                  std::sqrt(param("var", c) + 1e-2) +
                              param("shift", c);
    ASSERT_NEAR(y.data<float>()[flat], std::min(std::max(normalized, -0.5), 0.5), 1e-6) << flat;
  }
}

}  // namespace
}  // namespace octet
