// Resize (nearest) through Model + Session on every backend: each coordinate mode × rounding
// mode against the hand-computed indices of tests/kernels/resize_nearest_cases.hpp, fp32 and
// int8 giving the same codes, the ONNX scale used as given, and PyTorch's 2× upsampling.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "engine/model.hpp"
#include "engine/session.hpp"
#include "tests/graph/graph_builder.hpp"
#include "tests/kernels/resize_nearest_cases.hpp"

namespace octet {
namespace {

Graph resize_graph(const Shape& input, DType dtype, const test::Attrs& attrs) {
  test::GraphBuilder b("resize");
  b.input("x", input, dtype);
  b.node("Resize", "up", {"x"}, {"y"}, attrs);
  b.output("y");
  return b.build();
}

Tensor run(const Graph& graph, const Tensor& input, const std::string& backend) {
  Model model = Model::from_graph(graph, false);
  SessionOptions options;
  options.backend = backend;
  Session session(model, options);
  return session.run({input}).at(0);
}

// A distinct int8 code at every (c, h, w) of an [1, C, H, W] tensor (C <= 2, H <= 8, W <= 4),
// as i8 and as the same numbers in f32.
struct Codes {
  Tensor i8, f32;
};
Codes distinct_codes(const Shape& shape) {
  Codes codes{Tensor(DType::i8, shape), Tensor(DType::f32, shape)};
  int64_t i = 0;
  for (int64_t c = 0; c < shape[1]; ++c)
    for (int64_t h = 0; h < shape[2]; ++h)
      for (int64_t w = 0; w < shape[3]; ++w, ++i) {
        const int code = -100 + 40 * static_cast<int>(c) + 4 * static_cast<int>(h) + static_cast<int>(w);
        codes.i8.mutable_data<int8_t>()[i] = static_cast<int8_t>(code);
        codes.f32.mutable_data<float>()[i] = static_cast<float>(code);
      }
  return codes;
}

// Height uses the rows of `height_case` (8 → 3 or 8 → 1), width those of the 4 → 8 case; both
// cases list the coordinate modes in the same order.
void check_every_mode(const test::NearestAxisCase& height_case) {
  const test::NearestAxisCase& width_case = test::nearest_axis_cases()[0];
  ASSERT_EQ(width_case.in_length, 4);
  const Shape input{1, 2, height_case.in_length, width_case.in_length};
  const Codes codes = distinct_codes(input);
  for (size_t t = 0; t < width_case.rows.size(); ++t)
    for (int r = 0; r < 4; ++r) {
      const test::NearestRow& rows = height_case.rows[t];
      const test::NearestRow& cols = width_case.rows[t];
      ASSERT_EQ(rows.transform, cols.transform);
      const test::Attrs attrs = {{"mode", std::string("nearest")},
                                 {"coordinate_transformation_mode", std::string(rows.transform_name)},
                                 {"nearest_mode", std::string(test::kRoundingNames[r])},
                                 {"sizes", std::vector<int64_t>{1, 2, height_case.out_length, width_case.out_length}}};
      for (const std::string& backend : available_backends()) {
        const std::string what = std::string(rows.transform_name) + " " + test::kRoundingNames[r] + " on " + backend;
        const Tensor f32 = run(resize_graph(input, DType::f32, attrs), codes.f32, backend);
        const Tensor i8 = run(resize_graph(input, DType::i8, attrs), codes.i8, backend);
        ASSERT_EQ(f32.shape(), (Shape{1, 2, height_case.out_length, width_case.out_length})) << what;
        ASSERT_EQ(i8.shape(), f32.shape()) << what;
        int64_t i = 0;
        for (int64_t c = 0; c < 2; ++c)
          for (int64_t y = 0; y < height_case.out_length; ++y)
            for (int64_t x = 0; x < width_case.out_length; ++x, ++i) {
              const int64_t source = (c * input[2] + rows.by_rounding[r][static_cast<size_t>(y)]) * input[3] +
                                     cols.by_rounding[r][static_cast<size_t>(x)];
              ASSERT_EQ(f32.data<float>()[i], codes.f32.data<float>()[source]) << what << " at " << c << "," << y << "," << x;
              ASSERT_EQ(i8.data<int8_t>()[i], codes.i8.data<int8_t>()[source]) << what << " at " << c << "," << y << "," << x;
            }
      }
    }
}

TEST(ResizeOp, EveryCoordinateAndNearestModeDownsamplingHeight) { check_every_mode(test::nearest_axis_cases()[1]); }

TEST(ResizeOp, EveryCoordinateAndNearestModeToOneRow) { check_every_mode(test::nearest_axis_cases()[2]); }

TEST(ResizeOp, MapsByTheGivenScale) {
  // Width 4 × 0.6 → 2 columns mapped by 0.6 (half_pixel, round_prefer_ceil): (x + .5)/.6 - .5 =
  // .33, 2.0 → columns 0 and 2. Mapping by 2/4 instead would give 1 and 3.
  const Codes codes = distinct_codes({1, 1, 1, 4});
  const test::Attrs attrs = {{"scales", std::vector<float>{1, 1, 1, 0.6f}}, {"nearest_mode", std::string("round_prefer_ceil")}};
  for (const std::string& backend : available_backends()) {
    const Tensor y = run(resize_graph({1, 1, 1, 4}, DType::i8, attrs), codes.i8, backend);
    ASSERT_EQ(y.shape(), (Shape{1, 1, 1, 2})) << backend;
    EXPECT_EQ(y.data<int8_t>()[0], codes.i8.data<int8_t>()[0]) << backend;
    EXPECT_EQ(y.data<int8_t>()[1], codes.i8.data<int8_t>()[2]) << backend;
  }
}

TEST(ResizeOp, PyTorchTwiceUpsamplingRepeatsEachPixel) {
  // nn.Upsample(scale_factor=2, mode='nearest') exports asymmetric + floor.
  std::mt19937 rng(5);
  const Tensor x = test::random_tensor({2, 3, 5, 7}, rng);
  const test::Attrs attrs = {{"scales", std::vector<float>{1, 1, 2, 2}},
                             {"coordinate_transformation_mode", std::string("asymmetric")},
                             {"nearest_mode", std::string("floor")}};
  for (const std::string& backend : available_backends()) {
    const Tensor y = run(resize_graph(x.shape(), DType::f32, attrs), x, backend);
    ASSERT_EQ(y.shape(), (Shape{2, 3, 10, 14})) << backend;
    for (int64_t p = 0; p < 6; ++p)
      for (int64_t h = 0; h < 10; ++h)
        for (int64_t w = 0; w < 14; ++w)
          ASSERT_EQ(y.data<float>()[(p * 10 + h) * 14 + w], x.data<float>()[(p * 5 + h / 2) * 7 + w / 2])
              << backend << " at " << p << "," << h << "," << w;
  }
}

}  // namespace
}  // namespace octet
