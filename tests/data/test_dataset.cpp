#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "engine/data/data_error.hpp"
#include "engine/data/dataset.hpp"
#include "test_helpers.hpp"

namespace octet::data {
namespace {

using test::throws_data_error;

std::vector<float> sample_of(const Dataset& d, size_t i) {
  std::vector<float> out(d.sample_elements());
  d.sample(i, out.data());
  return out;
}

// Two 3-channel 1×2 images: pixel values 0..11 as uint8.
Dataset rgb_u8() {
  std::vector<uint8_t> pixels(12);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 20);
  return Dataset("rgb", 2, {3, 1, 2}, PixelType::u8, pixels, {4, 7});
}

TEST(Dataset, Uint8PixelsAreScaledToUnitRange) {
  const Dataset d("u8", 1, {1, 1, 3}, PixelType::u8, {0, 51, 255});
  EXPECT_EQ(d.size(), 1u);
  EXPECT_EQ(d.sample_elements(), 3u);
  EXPECT_EQ(d.pixel_type(), PixelType::u8);
  const std::vector<float> s = sample_of(d, 0);
  EXPECT_FLOAT_EQ(s[0], 0.0f);
  EXPECT_FLOAT_EQ(s[1], 0.2f);
  EXPECT_FLOAT_EQ(s[2], 1.0f);
  EXPECT_FALSE(d.has_labels());
}

TEST(Dataset, FloatPixelsAreReturnedAsStored) {
  const Dataset d = Dataset::from_floats("f", 2, {2}, {-3.5f, 1000.0f, 0.25f, 7.0f}, {1, 0});
  EXPECT_EQ(d.sample_shape(), std::vector<int64_t>{2});
  EXPECT_EQ(sample_of(d, 0), (std::vector<float>{-3.5f, 1000.0f}));
  EXPECT_EQ(sample_of(d, 1), (std::vector<float>{0.25f, 7.0f}));
  EXPECT_TRUE(d.has_labels());
  EXPECT_EQ(d.label(0), 1);
  EXPECT_EQ(d.label(1), 0);
  EXPECT_EQ(d.name(), "f");
}

TEST(Dataset, ScalarNormalizationAppliesToEveryElement) {
  Dataset d = rgb_u8();
  d.set_normalization({0.5f}, {0.25f});
  const std::vector<float> s = sample_of(d, 1);
  for (size_t j = 0; j < s.size(); ++j) {
    const float x = static_cast<float>((6 + j) * 20) / 255.0f;
    EXPECT_NEAR(s[j], (x - 0.5f) / 0.25f, 1e-5f) << j;
  }
}

TEST(Dataset, PerChannelNormalizationUsesTheChannelOfEachPlane) {
  Dataset d = rgb_u8();
  EXPECT_EQ(d.channels(), 3u);
  const std::vector<float> mean = {0.485f, 0.456f, 0.406f};
  const std::vector<float> std = {0.229f, 0.224f, 0.225f};
  d.set_normalization(mean, std);
  const std::vector<float> s = sample_of(d, 0);
  ASSERT_EQ(s.size(), 6u);
  for (size_t j = 0; j < s.size(); ++j) {
    const size_t c = j / 2;  // planes of 1×2 pixels
    const float x = static_cast<float>(j * 20) / 255.0f;
    EXPECT_NEAR(s[j], (x - mean[c]) / std[c], 1e-5f) << j;
  }
}

TEST(Dataset, NormalizationListsMayBeEmpty) {
  Dataset d = Dataset::from_floats("f", 1, {2}, {1.0f, 3.0f});
  d.set_normalization({1.0f}, {});
  EXPECT_EQ(sample_of(d, 0), (std::vector<float>{0.0f, 2.0f}));
  d.set_normalization({}, {2.0f});
  EXPECT_EQ(sample_of(d, 0), (std::vector<float>{0.5f, 1.5f}));
  d.set_normalization({}, {});
  EXPECT_EQ(sample_of(d, 0), (std::vector<float>{1.0f, 3.0f}));
}

TEST(Dataset, BadNormalizationIsRejectedAndKeepsThePreviousSetting) {
  Dataset d = rgb_u8();
  d.set_normalization({0.5f}, {0.5f});
  const std::vector<float> before = sample_of(d, 0);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_TRUE(throws_data_error(
      [&] {
        d.set_normalization({0.1f, 0.2f}, {1.0f});
      },
      {"'rgb'", "mean has 2 values", "1 or 3", "{3,1,2}"}));
  EXPECT_TRUE(throws_data_error(
      [&] {
        d.set_normalization({0.1f}, {1, 1, 1, 1});
      },
      {"std has 4 values"}));
  EXPECT_TRUE(throws_data_error([&] { d.set_normalization({0.1f}, {0.0f}); }, {"std"}));
  EXPECT_TRUE(throws_data_error([&] { d.set_normalization({0.1f}, {1.0f, -1.0f, 1.0f}); }));
  EXPECT_TRUE(throws_data_error([&] { d.set_normalization({0.1f}, {nan}); }));
  EXPECT_TRUE(throws_data_error([&] { d.set_normalization({inf}, {1.0f}); }));
  EXPECT_EQ(sample_of(d, 0), before);

  // Samples that are not (C,H,W) have a single channel.
  Dataset flat = Dataset::from_floats("flat", 1, {3}, {1, 2, 3});
  EXPECT_EQ(flat.channels(), 1u);
  EXPECT_TRUE(throws_data_error([&] { flat.set_normalization({1, 2, 3}, {1}); }, {"expected 1"}));
}

TEST(Dataset, LimitKeepsTheFirstSamples) {
  Dataset d = rgb_u8();
  const std::vector<float> first = sample_of(d, 0);
  d.limit(5);
  EXPECT_EQ(d.size(), 2u);
  d.limit(1);
  EXPECT_EQ(d.size(), 1u);
  EXPECT_EQ(sample_of(d, 0), first);
  EXPECT_EQ(d.label(0), 4);
  EXPECT_TRUE(throws_data_error([&] { sample_of(d, 1); }, {"out of range"}));
  EXPECT_TRUE(throws_data_error([&] { d.label(1); }, {"out of range"}));
  d.limit(0);
  EXPECT_EQ(d.size(), 0u);
  EXPECT_TRUE(d.has_labels());
}

TEST(Dataset, AccessErrors) {
  const Dataset d("d", 2, {2}, PixelType::u8, {1, 2, 3, 4});
  std::vector<float> out(2);
  EXPECT_TRUE(throws_data_error([&] { d.sample(2, out.data()); }, {"'d'", "index 2", "size 2"}));
  EXPECT_TRUE(throws_data_error([&] { d.label(0); }, {"no labels"}));
}

TEST(Dataset, ConstructorChecksSizes) {
  EXPECT_TRUE(throws_data_error(
      [] {
        Dataset("d", 2, {2}, PixelType::u8, {1, 2, 3});
      },
      {"need 4 bytes", "got 3"}));
  EXPECT_TRUE(throws_data_error(
      [] {
        Dataset("d", 1, {2}, PixelType::f32, {1, 2});
      },
      {"need 8 bytes"}));
  EXPECT_TRUE(throws_data_error(
      [] {
        Dataset("d", 2, {1}, PixelType::u8, {1, 2}, {0});
      },
      {"2 samples but 1 labels"}));
  EXPECT_TRUE(throws_data_error([] { Dataset("d", 1, {-1}, PixelType::u8, {}); },
                                {"invalid sample shape"}));
  EXPECT_TRUE(throws_data_error(
      [] { Dataset("d", std::numeric_limits<size_t>::max(), {1 << 20}, PixelType::u8, {}); }));
  const Dataset empty("e", 0, {1, 28, 28}, PixelType::u8, {});
  EXPECT_EQ(empty.size(), 0u);
  EXPECT_EQ(empty.sample_elements(), 784u);
}

std::vector<float> target_of(const Dataset& d, size_t i) {
  std::vector<float> out(d.target_elements());
  d.target(i, out.data());
  return out;
}

TEST(DatasetTargets, StoredTargetsComePerSampleAndFollowLimit) {
  Dataset d = Dataset::from_floats("f", 3, {2}, {0, 1, 2, 3, 4, 5});
  EXPECT_FALSE(d.has_targets());
  d.set_targets({1, 2}, {0.5f, -1.0f, 2.0f, 3.5f, 7.0f, 8.0f});
  ASSERT_TRUE(d.has_targets());
  EXPECT_EQ(d.target_shape(), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(d.target_elements(), 2u);
  EXPECT_EQ(target_of(d, 1), (std::vector<float>{2.0f, 3.5f}));
  EXPECT_EQ(target_of(d, 2), (std::vector<float>{7.0f, 8.0f}));
  EXPECT_FALSE(d.has_labels());
  d.limit(2);
  EXPECT_EQ(target_of(d, 1), (std::vector<float>{2.0f, 3.5f}));
  EXPECT_TRUE(throws_data_error([&] { target_of(d, 2); }, {"'f'", "target index 2", "size 2"}));
}

TEST(DatasetTargets, ScalarTargetsHaveAnEmptyShape) {
  Dataset d = Dataset::from_floats("f", 2, {1}, {0, 1});
  d.set_targets({}, {0.25f, 0.75f});
  EXPECT_EQ(d.target_elements(), 1u);
  EXPECT_EQ(target_of(d, 1), std::vector<float>{0.75f});
}

TEST(DatasetTargets, WrongCountIsRejectedAndKeepsThePreviousTargets) {
  Dataset d = Dataset::from_floats("f", 3, {2}, {0, 1, 2, 3, 4, 5});
  EXPECT_TRUE(throws_data_error(
      [&] {
        d.set_targets({1, 2}, {1, 2, 3, 4, 5});
      },
      {"3 samples of target shape {1,2} need 6 target values, got 5"}));
  EXPECT_FALSE(d.has_targets());
  EXPECT_TRUE(throws_data_error([&] { d.set_targets({-2}, {}); }, {"invalid target shape {-2}"}));
  EXPECT_TRUE(throws_data_error([&] { target_of(d, 0); }, {"'f'", "has no regression targets"}));
  d.set_targets({1}, {1, 2, 3});
  EXPECT_TRUE(throws_data_error([&] { d.set_targets({2}, {1, 2, 3}); }, {"need 6"}));
  EXPECT_EQ(target_of(d, 2), std::vector<float>{3.0f});
}

TEST(DatasetTargets, CleanTargetsAreTheInputsBeforeNoiseAndNormalization) {
  std::vector<uint8_t> bytes(256);
  for (size_t b = 0; b < bytes.size(); ++b) bytes[b] = static_cast<uint8_t>(b);
  Dataset d("u8", 1, {1, 16, 16}, PixelType::u8, bytes, {3});
  const std::vector<float> plain = sample_of(d, 0);
  d.set_clean_targets();
  d.set_noise(GaussianNoise{0.3, 5});
  d.set_normalization({0.5f}, {0.25f});
  EXPECT_EQ(d.target_shape(), d.sample_shape());
  const std::vector<float> target = target_of(d, 0);
  for (size_t b = 0; b < bytes.size(); ++b) {
    // The spec computes float(byte / 255.0) in double; it agrees with the float path sample()
    // takes without noise, so a target never differs from the plain input.
    EXPECT_EQ(target[b], static_cast<float>(static_cast<double>(b) / 255.0)) << b;
    EXPECT_EQ(target[b], plain[b]) << b;
  }
  EXPECT_NE(sample_of(d, 0), plain);
  EXPECT_EQ(d.label(0), 3);
}

// Three u8 samples of four pixels, the expected noisy values replayed with the generator.
TEST(DatasetNoise, EachSampleStartsAtItsStreamPosition) {
  const std::vector<uint8_t> bytes = {0, 40, 128, 255, 10, 20, 30, 40, 200, 100, 50, 25};
  Dataset d("u8", 3, {4}, PixelType::u8, bytes);
  d.set_noise(GaussianNoise{0.1, 42});
  ASSERT_TRUE(d.noise().has_value());
  SplitMix64 rng(42);
  std::vector<std::vector<float>> expected(3, std::vector<float>(4));
  for (size_t i = 0; i < 3; ++i)
    for (size_t j = 0; j < 4; ++j) expected[i][j] = noisy_pixel(bytes[i * 4 + j] / 255.0, 0.1, rng);
  // Any order of access gives the same samples: no hidden generator state between calls.
  EXPECT_EQ(sample_of(d, 2), expected[2]);
  EXPECT_EQ(sample_of(d, 0), expected[0]);
  EXPECT_EQ(sample_of(d, 1), expected[1]);
  EXPECT_EQ(sample_of(d, 2), expected[2]);
  d.limit(2);
  EXPECT_EQ(sample_of(d, 1), expected[1]);
  d.set_noise(std::nullopt);
  EXPECT_FALSE(d.noise().has_value());
  EXPECT_FLOAT_EQ(sample_of(d, 1)[0], 10.0f / 255.0f);
}

TEST(DatasetNoise, FloatSourcesAndNormalizationComposeInOrder) {
  Dataset d = Dataset::from_floats("f", 2, {1, 1, 2}, {0.5f, 0.25f, 0.9f, 0.1f});
  d.set_noise(GaussianNoise{0.05, 9});
  d.set_normalization({0.5f}, {0.5f});
  SplitMix64 rng(9);
  rng.skip(4);  // sample 1 starts after two values of two draws each
  const float a = noisy_pixel(0.9f, 0.05, rng);
  const float b = noisy_pixel(0.1f, 0.05, rng);
  EXPECT_EQ(sample_of(d, 1), (std::vector<float>{(a - 0.5f) / 0.5f, (b - 0.5f) / 0.5f}));
}

TEST(DatasetNoise, BadSigmaIsRejectedAndKeepsThePreviousNoise) {
  Dataset d = rgb_u8();
  d.set_noise(GaussianNoise{0.2, 1});
  for (double sigma : {-0.1, std::nan(""), std::numeric_limits<double>::infinity()}) {
    EXPECT_TRUE(throws_data_error(
        [&] {
          d.set_noise(GaussianNoise{sigma, 1});
        },
        {"'rgb'", "sigma"}));
  }
  EXPECT_EQ(d.noise()->sigma, 0.2);
}

}  // namespace
}  // namespace octet::data
