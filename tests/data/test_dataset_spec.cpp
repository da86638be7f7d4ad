#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <optional>

#include "engine/data/data_error.hpp"
#include "engine/data/dataset_spec.hpp"
#include "engine/data/npy.hpp"
#include "test_helpers.hpp"
#include "tests/scoped_env.hpp"

namespace octet::data {
namespace {

using test::idx_bytes;
using test::TempDir;
using test::throws_data_error;
using test::write_file;
using test::write_gzip;

// Points OCTET_DATASETS_DIR somewhere (or nowhere) for the lifetime of the object.
class ScopedDatasetsDir : public octet::test::ScopedEnv {
 public:
  explicit ScopedDatasetsDir(const std::optional<std::string>& value) : ScopedEnv("OCTET_DATASETS_DIR", value) {}
};

std::string image_pixels(uint32_t count, uint32_t rows, uint32_t cols) {
  std::string pixels(size_t{count} * rows * cols, '\0');
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<char>(i % 256);
  return pixels;
}

std::string labels_of(uint32_t count) {
  std::string labels(count, '\0');
  for (uint32_t i = 0; i < count; ++i) labels[i] = static_cast<char>((i * 3) % 10);
  return labels;
}

// A fake dataset root holding IDX files laid out like the Debian packages.
class DatasetSpec : public ::testing::Test {
 protected:
  void write_split(const std::string& dataset, const std::string& prefix, uint32_t images,
                   uint32_t labels, bool gzip = true) {
    const std::filesystem::path dir = root_.dir() / dataset;
    std::filesystem::create_directories(dir);
    const std::string suffix = gzip ? ".gz" : "";
    const auto write = gzip ? write_gzip : write_file;
    write((dir / (prefix + "-images-idx3-ubyte" + suffix)).string(),
          idx_bytes({images, 28, 28}, image_pixels(images, 28, 28)));
    write((dir / (prefix + "-labels-idx1-ubyte" + suffix)).string(),
          idx_bytes({labels}, labels_of(labels)));
  }

  TempDir root_;
  TempDir files_;
  ScopedDatasetsDir env_{root_.dir().string()};
};

TEST_F(DatasetSpec, LoadsNamedDatasetFromIdxFiles) {
  write_split("fashion-mnist", "t10k", 3, 3);
  write_split("mnist", "train", 5, 5, /*gzip=*/false);  // gunzipped copies work too
  EXPECT_EQ(datasets_root(), root_.dir().string());

  const Dataset test = load_dataset("fashion-mnist:test");
  EXPECT_EQ(test.name(), "fashion-mnist:test");
  EXPECT_EQ(test.size(), 3u);
  EXPECT_EQ(test.sample_shape(), (std::vector<int64_t>{1, 28, 28}));
  EXPECT_EQ(test.pixel_type(), PixelType::u8);
  ASSERT_TRUE(test.has_labels());
  EXPECT_EQ(test.label(0), 0);
  EXPECT_EQ(test.label(2), 6);
  std::vector<float> pixels(test.sample_elements());
  test.sample(1, pixels.data());
  EXPECT_FLOAT_EQ(pixels[0], static_cast<float>(784 % 256) / 255.0f);

  const Dataset train = load_dataset("mnist:train");
  EXPECT_EQ(train.size(), 5u);
  EXPECT_EQ(train.label(4), 2);
}

TEST_F(DatasetSpec, LabelCountMismatchNamesBothFiles) {
  write_split("fashion-mnist", "train", 4, 3);
  EXPECT_TRUE(throws_data_error(
      [] { load_dataset("fashion-mnist:train"); },
      {"train-images-idx3-ubyte.gz' hold 4 samples", "train-labels-idx1-ubyte.gz' hold 3"}));
}

TEST_F(DatasetSpec, MissingDirectoryIsExplained) {
  EXPECT_TRUE(throws_data_error(
      [] { load_dataset("mnist:test"); },
      {"'mnist:test'", (root_.dir() / "mnist").string(), "does not exist", "OCTET_DATASETS_DIR"}));
  std::filesystem::create_directories(root_.dir() / "mnist");
  EXPECT_TRUE(throws_data_error([] { load_dataset("mnist:test"); },
                                {"mnist test images", "t10k-images-idx3-ubyte.gz", "cannot open"}));
}

TEST_F(DatasetSpec, WrongImageRankIsAnError) {
  const std::filesystem::path dir = root_.dir() / "mnist";
  std::filesystem::create_directories(dir);
  write_gzip((dir / "t10k-images-idx3-ubyte.gz").string(), idx_bytes({2, 4}, std::string(8, 'x')));
  write_gzip((dir / "t10k-labels-idx1-ubyte.gz").string(), idx_bytes({2}, "ab"));
  EXPECT_TRUE(throws_data_error([] { load_dataset("mnist:test"); }, {"expected 3 dimensions"}));
}

TEST_F(DatasetSpec, UnknownSpecsListTheAcceptedForms) {
  for (const std::string spec : {"foo:bar", "", "no_such_file"}) {
    EXPECT_TRUE(throws_data_error([&] { load_dataset(spec); },
                                  {"fashion-mnist:test", "mnist:train", "path/to/file.npy"}))
        << spec;
  }
  EXPECT_TRUE(throws_data_error([] { load_dataset("fashion-mnist:val"); },
                                {"unknown split 'val'", "test or train"}));
  write_split("fashion-mnist", "t10k", 1, 1);
  EXPECT_TRUE(throws_data_error([&] { load_dataset("fashion-mnist:test", files_.path("l.npy")); },
                                {"only accepted with .npy"}));
}

TEST_F(DatasetSpec, NpySamplesFollowAxisZero) {
  struct Case {
    std::vector<int64_t> shape;
    std::vector<int64_t> sample_shape;
  };
  const std::vector<Case> cases = {
      {{2, 3, 4, 5}, {3, 4, 5}}, {{2, 4, 5}, {1, 4, 5}}, {{2, 7}, {7}}};
  for (const Case& c : cases) {
    const size_t n = static_cast<size_t>(
        c.shape[0] * c.sample_shape.back() *
        (c.sample_shape.size() == 3 ? c.sample_shape[0] * c.sample_shape[1] : 1));
    std::vector<float> values(n);
    for (size_t i = 0; i < n; ++i) values[i] = static_cast<float>(i) * 0.5f - 3.0f;
    const std::string path = files_.path("x.npy");
    write_npy(path, c.shape, values.data());
    const Dataset d = load_dataset(path);
    EXPECT_EQ(d.name(), path);
    EXPECT_EQ(d.size(), 2u);
    EXPECT_EQ(d.sample_shape(), c.sample_shape);
    EXPECT_FALSE(d.has_labels());
    std::vector<float> out(d.sample_elements());
    d.sample(1, out.data());
    EXPECT_EQ(
        out, std::vector<float>(values.begin() + static_cast<std::ptrdiff_t>(n / 2), values.end()));
  }
}

TEST_F(DatasetSpec, Uint8NpyIsScaledAndLabelsLoadFromAnyIntegerType) {
  const std::vector<uint8_t> pixels = {0, 255, 51, 102};
  write_npy(files_.path("x.npy"), {2, 1, 2}, pixels.data());
  const std::vector<int64_t> l64 = {5, -1};
  const std::vector<int32_t> l32 = {5, -1};
  const std::vector<uint8_t> l8 = {5, 255};
  write_npy(files_.path("l64.npy"), {2}, l64.data());
  write_npy(files_.path("l32.npy"), {2}, l32.data());
  write_npy(files_.path("l8.npy"), {2}, l8.data());

  const Dataset d = load_dataset(files_.path("x.npy"), files_.path("l64.npy"));
  std::vector<float> out(2);
  d.sample(1, out.data());
  EXPECT_FLOAT_EQ(out[0], 0.2f);
  EXPECT_FLOAT_EQ(out[1], 0.4f);
  EXPECT_EQ(d.label(0), 5);
  EXPECT_EQ(d.label(1), -1);
  EXPECT_EQ(load_dataset(files_.path("x.npy"), files_.path("l32.npy")).label(1), -1);
  EXPECT_EQ(load_dataset(files_.path("x.npy"), files_.path("l8.npy")).label(1), 255);
}

TEST_F(DatasetSpec, NpyProblemsAreReported) {
  const std::vector<float> values(6, 1.0f);
  const std::vector<int64_t> labels = {1, 2, 3};
  write_npy(files_.path("x.npy"), {2, 3}, values.data());
  write_npy(files_.path("flat.npy"), {6}, values.data());
  write_npy(files_.path("i64.npy"), {3}, labels.data());
  write_npy(files_.path("l3.npy"), {3}, labels.data());
  write_npy(files_.path("l2d.npy"), {1, 2}, labels.data());
  write_npy(files_.path("lf.npy"), {2}, values.data());

  EXPECT_TRUE(throws_data_error([&] { load_dataset(files_.path("flat.npy")); },
                                {"expected shape (N,K)", "(6,)"}));
  EXPECT_TRUE(throws_data_error([&] { load_dataset(files_.path("i64.npy")); },
                                {"expected float32", "'<i8'"}));
  EXPECT_TRUE(throws_data_error([&] { load_dataset(files_.path("x.npy"), files_.path("l3.npy")); },
                                {"x.npy' has 2 samples", "l3.npy' have 3"}));
  EXPECT_TRUE(throws_data_error([&] { load_dataset(files_.path("x.npy"), files_.path("l2d.npy")); },
                                {"expected shape (N,)"}));
  EXPECT_TRUE(throws_data_error([&] { load_dataset(files_.path("x.npy"), files_.path("lf.npy")); },
                                {"integer labels"}));
  EXPECT_TRUE(
      throws_data_error([&] { load_dataset(files_.path("x.npy"), files_.path("missing.npy")); },
                        {"labels '", "missing.npy", "cannot open"}));
  EXPECT_TRUE(throws_data_error([&] { load_dataset(files_.path("missing.npy")); },
                                {"missing.npy", "cannot open"}));
}

// Expected noisy values below come from the NumPy version of the noise the training script
// uses (vectorized: state of draw k = seed + k * gamma in uint64, np.log/np.cos/np.sqrt in
// float64, np.clip, astype(float32)) on the same 3 synthetic images (pixel k = k % 256).
double sum_of_samples(const Dataset& d) {
  double sum = 0;
  std::vector<float> pixels(d.sample_elements());
  for (size_t i = 0; i < d.size(); ++i) {
    d.sample(i, pixels.data());
    for (float p : pixels) sum += p;
  }
  return sum;
}

float pixel_of(const Dataset& d, size_t i, size_t j) {
  std::vector<float> pixels(d.sample_elements());
  d.sample(i, pixels.data());
  return pixels[j];
}

TEST_F(DatasetSpec, NoisyFashionMnistMatchesTheNumpyNoise) {
  write_split("fashion-mnist", "t10k", 3, 3);
  const Dataset d = load_dataset("fashion-mnist-noisy:test");
  EXPECT_EQ(d.name(), "fashion-mnist-noisy:test");
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d.sample_shape(), (std::vector<int64_t>{1, 28, 28}));
  ASSERT_TRUE(d.noise().has_value());
  EXPECT_EQ(d.noise()->sigma, 0.2);
  EXPECT_EQ(d.noise()->seed, 2026u);
  EXPECT_EQ(pixel_of(d, 1, 5), 0.14736570417881012f);    // clean 21/255
  EXPECT_EQ(pixel_of(d, 2, 783), 0.08116450160741806f);  // clean 47/255
  EXPECT_EQ(pixel_of(d, 0, 100), 0.4620215594768524f);
  EXPECT_EQ(pixel_of(d, 1, 100), 0.40187695622444153f);
  EXPECT_EQ(pixel_of(d, 2, 100), 0.6520593762397766f);
  EXPECT_EQ(pixel_of(d, 2, 0), 0.08509758859872818f);
  EXPECT_EQ(pixel_of(d, 0, 1), 0.0f);  // clamped
  EXPECT_NEAR(sum_of_samples(d), 1146.0260232992005, 1e-9);

  // Targets are the clean images; the class labels stay.
  ASSERT_TRUE(d.has_targets());
  EXPECT_EQ(d.target_shape(), d.sample_shape());
  std::vector<float> target(d.target_elements());
  d.target(1, target.data());
  EXPECT_EQ(target[5], static_cast<float>(21.0 / 255.0));
  EXPECT_EQ(d.label(2), 6);
}

TEST_F(DatasetSpec, NoisyParametersInAnyOrder) {
  write_split("fashion-mnist", "t10k", 3, 3);
  write_split("fashion-mnist", "train", 2, 2);
  const Dataset d = load_dataset("fashion-mnist-noisy:test:seed=7:sigma=0.5");
  EXPECT_EQ(pixel_of(d, 0, 0), 0.6824961304664612f);
  EXPECT_EQ(pixel_of(d, 2, 400), 0.47142550349235535f);
  EXPECT_NEAR(sum_of_samples(d), 1157.502177164657, 1e-9);
  const Dataset explicit_defaults = load_dataset("fashion-mnist-noisy:test:sigma=0.2:seed=2026");
  EXPECT_NEAR(sum_of_samples(explicit_defaults), 1146.0260232992005, 1e-9);
  // sigma 0: the inputs are the clean images.
  const Dataset clean = load_dataset("fashion-mnist-noisy:test:sigma=0");
  EXPECT_EQ(pixel_of(clean, 1, 5), 21.0f / 255.0f);
  const Dataset train = load_dataset("fashion-mnist-noisy:train:seed=18446744073709551615");
  EXPECT_EQ(train.size(), 2u);
  EXPECT_EQ(train.noise()->seed, UINT64_MAX);
}

TEST_F(DatasetSpec, NoisyParameterErrorsNameTheParameter) {
  write_split("fashion-mnist", "t10k", 1, 1);
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"fashion-mnist-noisy:test:sigma=-0.1", {"sigma '-0.1'", ">= 0"}},
      {"fashion-mnist-noisy:test:sigma=abc", {"sigma 'abc'"}},
      {"fashion-mnist-noisy:test:sigma=", {"sigma ''"}},
      {"fashion-mnist-noisy:test:sigma=inf", {"sigma 'inf'"}},
      {"fashion-mnist-noisy:test:sigma=0.1x", {"sigma '0.1x'"}},
      {"fashion-mnist-noisy:test:seed=-1", {"seed '-1'", "[0, 2^64)"}},
      {"fashion-mnist-noisy:test:seed=1e3", {"seed '1e3'"}},
      {"fashion-mnist-noisy:test:seed=18446744073709551616", {"seed '18446744073709551616'"}},
      {"fashion-mnist-noisy:test:sigma=0.1:sigma=0.2", {"sigma is given twice"}},
      {"fashion-mnist-noisy:test:seed=1:seed=1", {"seed is given twice"}},
      {"fashion-mnist-noisy:test:noise=3", {"unknown parameter 'noise=3'", "sigma=S or seed=N"}},
      {"fashion-mnist-noisy:test:sigma", {"unknown parameter 'sigma'"}},
      {"fashion-mnist-noisy:test:", {"unknown parameter ''"}},
      {"fashion-mnist-noisy:val", {"unknown split 'val'"}},
      {"fashion-mnist-noisy:sigma=0.1", {"unknown split 'sigma=0.1'"}},
  };
  for (const auto& [spec, fragments] : cases) {
    std::vector<std::string> expected = fragments;
    expected.push_back("'" + spec + "'");
    EXPECT_TRUE(throws_data_error([&] { load_dataset(spec); }, expected)) << spec;
  }
  EXPECT_TRUE(
      throws_data_error([&] { load_dataset("fashion-mnist-noisy:test", files_.path("l.npy")); },
                        {"labels file is only accepted with .npy"}));
  EXPECT_TRUE(
      throws_data_error([&] { load_dataset("fashion-mnist-noisy:test", "", files_.path("t.npy")); },
                        {"targets file is only accepted with .npy", "carries its own targets"}));
  EXPECT_TRUE(throws_data_error([&] { load_dataset("fashion-mnist-noisy"); },
                                {"fashion-mnist-noisy:test|train[:sigma=S][:seed=N]"}));
}

TEST_F(DatasetSpec, NpyTargetsTakeTheDimsAfterN) {
  const std::vector<float> inputs(3 * 4, 0.5f);
  std::vector<float> targets(3 * 4);
  for (size_t i = 0; i < targets.size(); ++i) targets[i] = static_cast<float>(i) * 0.25f;
  write_npy(files_.path("x.npy"), {3, 4}, inputs.data());
  write_npy(files_.path("t.npy"), {3, 1, 2, 2}, targets.data());
  write_npy(files_.path("t_scalar.npy"), {3}, targets.data());
  const std::vector<int64_t> labels = {0, 1, 2};
  write_npy(files_.path("l.npy"), {3}, labels.data());

  Dataset d = load_dataset(files_.path("x.npy"), files_.path("l.npy"), files_.path("t.npy"));
  ASSERT_TRUE(d.has_targets());
  EXPECT_TRUE(d.has_labels());
  EXPECT_EQ(d.target_shape(), (std::vector<int64_t>{1, 2, 2}));
  std::vector<float> target(d.target_elements());
  d.target(2, target.data());
  EXPECT_EQ(target, (std::vector<float>{2.0f, 2.25f, 2.5f, 2.75f}));
  d.limit(1);
  d.target(0, target.data());
  EXPECT_EQ(target[3], 0.75f);

  const Dataset scalar = load_dataset(files_.path("x.npy"), "", files_.path("t_scalar.npy"));
  EXPECT_TRUE(scalar.target_shape().empty());
  EXPECT_FALSE(scalar.has_labels());
  EXPECT_FALSE(load_dataset(files_.path("x.npy")).has_targets());
}

TEST_F(DatasetSpec, NpyTargetProblemsAreReported) {
  const std::vector<float> values(6, 1.0f);
  const std::vector<int64_t> ints = {1, 2};
  write_npy(files_.path("x.npy"), {2, 3}, values.data());
  write_npy(files_.path("t3.npy"), {3, 2}, values.data());
  write_npy(files_.path("ti.npy"), {2}, ints.data());
  write_npy(files_.path("t0d.npy"), {}, values.data());
  EXPECT_TRUE(
      throws_data_error([&] { load_dataset(files_.path("x.npy"), "", files_.path("t3.npy")); },
                        {"x.npy' has 2 samples", "targets '", "t3.npy' have 3"}));
  EXPECT_TRUE(
      throws_data_error([&] { load_dataset(files_.path("x.npy"), "", files_.path("ti.npy")); },
                        {"ti.npy", "expected float32", "'<i8'"}));
  EXPECT_TRUE(
      throws_data_error([&] { load_dataset(files_.path("x.npy"), "", files_.path("t0d.npy")); },
                        {"t0d.npy", "got ()"}));
  EXPECT_TRUE(
      throws_data_error([&] { load_dataset(files_.path("x.npy"), "", files_.path("none.npy")); },
                        {"targets '", "none.npy", "cannot open"}));
  write_split("fashion-mnist", "t10k", 1, 1);
  EXPECT_TRUE(
      throws_data_error([&] { load_dataset("fashion-mnist:test", "", files_.path("x.npy")); },
                        {"targets file is only accepted with .npy"}));
}

TEST(DatasetSpecEnvironment, DefaultRootIsUsrShareDatasets) {
  ScopedDatasetsDir unset(std::nullopt);
  EXPECT_EQ(datasets_root(), "/usr/share/datasets");
  ScopedDatasetsDir empty(std::string{});
  EXPECT_EQ(datasets_root(), "/usr/share/datasets");
}

// The real files from the Debian package, when installed.
TEST(RealFashionMnist, TestSplitLoads) {
  ScopedDatasetsDir unset(std::nullopt);
  if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")) {
    GTEST_SKIP() << "Fashion-MNIST is not installed in /usr/share/datasets/fashion-mnist";
  }
  const Dataset d = load_dataset("fashion-mnist:test");
  ASSERT_EQ(d.size(), 10000u);
  EXPECT_EQ(d.sample_shape(), (std::vector<int64_t>{1, 28, 28}));
  EXPECT_EQ(d.label(0), 9);  // ankle boot
  std::vector<float> pixels(d.sample_elements());
  bool any_ink = false;
  for (size_t i = 0; i < d.size(); ++i) {
    ASSERT_GE(d.label(i), 0);
    ASSERT_LE(d.label(i), 9);
    if (i % 500 != 0) continue;  // spot-check pixels; the labels above cover every sample
    d.sample(i, pixels.data());
    for (float p : pixels) {
      ASSERT_GE(p, 0.0f);
      ASSERT_LE(p, 1.0f);
      any_ink = any_ink || p > 0.5f;
    }
  }
  EXPECT_TRUE(any_ink);
}

TEST(RealFashionMnist, TrainSplitLoadsAsBytes) {
  ScopedDatasetsDir unset(std::nullopt);
  if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")) {
    GTEST_SKIP() << "Fashion-MNIST is not installed in /usr/share/datasets/fashion-mnist";
  }
  Dataset d = load_dataset("fashion-mnist:train");
  EXPECT_EQ(d.size(), 60000u);
  EXPECT_EQ(d.pixel_type(), PixelType::u8);
  d.limit(100);
  EXPECT_EQ(d.size(), 100u);
}

// Deep into the real splits: the O(1) skip must land where NumPy's whole-split stream does.
TEST(RealFashionMnist, NoisyLastSamplesMatchNumpy) {
  ScopedDatasetsDir unset(std::nullopt);
  if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")) {
    GTEST_SKIP() << "Fashion-MNIST is not installed in /usr/share/datasets/fashion-mnist";
  }
  const Dataset test = load_dataset("fashion-mnist-noisy:test");
  ASSERT_EQ(test.size(), 10000u);
  EXPECT_EQ(pixel_of(test, 9999, 9), 0.23521463572978973f);
  double sum = 0;
  std::vector<float> pixels(test.sample_elements());
  test.sample(9999, pixels.data());
  for (float p : pixels) sum += p;
  EXPECT_NEAR(sum, 131.3556825722917, 1e-9);

  const Dataset train = load_dataset("fashion-mnist-noisy:train");
  ASSERT_EQ(train.size(), 60000u);
  EXPECT_EQ(pixel_of(train, 59999, 1), 0.20083540678024292f);
  sum = 0;
  train.sample(59999, pixels.data());
  for (float p : pixels) sum += p;
  EXPECT_NEAR(sum, 113.03065489623987, 1e-9);
}

}  // namespace
}  // namespace octet::data
