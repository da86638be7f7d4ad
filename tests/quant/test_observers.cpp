// Observer interface, factory, MinMax and moving-average observers, and the edge cases every kind
// must survive (empty, all-zero, constant, single value, invalid requests).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "graph/error.hpp"
#include "quant/minmax_observer.hpp"
#include "quant/moving_average_observer.hpp"
#include "quant/observer.hpp"
#include "tests/quant/observer_test_util.hpp"

namespace octet::quant {
namespace {

const RangeRequest kAsym{false, 256};
const RangeRequest kSym{true, 256};

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ObserverFactory, KindsAndNames) {
  EXPECT_EQ(observer_kinds(),
            (std::vector<std::string>{"minmax", "moving-average", "percentile", "entropy", "mse"}));
  for (const std::string& kind : observer_kinds()) {
    auto obs = make_observer(kind);
    ASSERT_NE(obs, nullptr);
    EXPECT_EQ(std::string(obs->name()), kind);
    EXPECT_TRUE(obs->empty());
  }
}

TEST(ObserverFactory, UnknownKindListsValidKinds) {
  const std::string msg = error_of([] { make_observer("nope"); });
  ASSERT_FALSE(msg.empty());
  EXPECT_NE(msg.find("'nope'"), std::string::npos) << msg;
  for (const std::string& kind : observer_kinds()) EXPECT_NE(msg.find(kind), std::string::npos) << msg;
}

TEST(MinMaxObserver, ExactRangeOverBatches) {
  MinMaxObserver obs;
  const std::vector<float> a{1.0f, -2.0f, 3.0f};
  const std::vector<float> b{0.5f, 7.0f};
  const std::vector<float> c{-4.0f};
  obs.observe(a.data(), a.size());
  Range r = obs.range(kAsym);
  EXPECT_EQ(r.lo, -2.0f);
  EXPECT_EQ(r.hi, 3.0f);
  obs.observe(b.data(), b.size());
  obs.observe(nullptr, 0);  // an empty batch is ignored
  obs.observe(c.data(), c.size());
  r = obs.range(kAsym);
  EXPECT_EQ(r.lo, -4.0f);
  EXPECT_EQ(r.hi, 7.0f);
  r = obs.range(kSym);
  EXPECT_EQ(r.lo, -7.0f);
  EXPECT_EQ(r.hi, 7.0f);
}

TEST(MinMaxObserver, SymmetricUsesLargerMagnitudeSide) {
  MinMaxObserver obs;
  const std::vector<float> v{-9.5f, 0.25f, 2.0f};
  obs.observe(v.data(), v.size());
  const Range r = obs.range(kSym);
  EXPECT_EQ(r.lo, -9.5f);
  EXPECT_EQ(r.hi, 9.5f);
}

TEST(MovingAverageObserver, PyTorchEmaSemantics) {
  MovingAverageObserver obs;  // constant 0.01
  EXPECT_DOUBLE_EQ(obs.averaging_constant(), 0.01);
  const std::vector<float> b1{-1.0f, 0.0f, 2.0f};
  const std::vector<float> b2{-3.0f, 4.0f};
  const std::vector<float> b3{0.0f, 1.0f};
  obs.observe(b1.data(), b1.size());  // initializes
  Range r = obs.range(kAsym);
  EXPECT_FLOAT_EQ(r.lo, -1.0f);
  EXPECT_FLOAT_EQ(r.hi, 2.0f);
  obs.observe(b2.data(), b2.size());
  r = obs.range(kAsym);
  EXPECT_FLOAT_EQ(r.lo, -1.02f);  // -1 + 0.01·(-3 - -1)
  EXPECT_FLOAT_EQ(r.hi, 2.02f);   //  2 + 0.01·(4 - 2)
  obs.observe(b3.data(), b3.size());
  r = obs.range(kAsym);
  EXPECT_FLOAT_EQ(r.lo, -1.0098f);  // -1.02 + 0.01·(0 + 1.02)
  EXPECT_FLOAT_EQ(r.hi, 2.0098f);   //  2.02 + 0.01·(1 - 2.02)
  r = obs.range(kSym);
  EXPECT_FLOAT_EQ(r.lo, -2.0098f);
  EXPECT_FLOAT_EQ(r.hi, 2.0098f);
}

TEST(MovingAverageObserver, CustomConstantAndValidation) {
  MovingAverageObserver obs(0.5);
  const std::vector<float> b1{0.0f, 8.0f};
  const std::vector<float> b2{-4.0f, 0.0f};
  obs.observe(b1.data(), b1.size());
  obs.observe(b2.data(), b2.size());
  const Range r = obs.range(kAsym);
  EXPECT_FLOAT_EQ(r.lo, -2.0f);  // 0 + 0.5·(-4 - 0)
  EXPECT_FLOAT_EQ(r.hi, 4.0f);   // 8 + 0.5·(0 - 8)
  EXPECT_THROW(MovingAverageObserver(0.0), Error);
  EXPECT_THROW(MovingAverageObserver(1.5), Error);
  EXPECT_THROW(MovingAverageObserver(std::nan("")), Error);
}

TEST(PerChannelAbsMax, BlocksAreContiguousChannels) {
  const std::vector<float> w{1.0f, -3.0f, 2.0f,   // channel 0
                             0.0f, 0.0f,  0.0f,   // channel 1
                             -0.5f, 0.25f, 0.5f}; // channel 2
  EXPECT_EQ(per_channel_absmax(w.data(), 3, 3), (std::vector<float>{3.0f, 0.0f, 0.5f}));
  EXPECT_EQ(per_channel_absmax(w.data(), 1, 9), (std::vector<float>{3.0f}));
  EXPECT_EQ(per_channel_absmax(nullptr, 0, 5), (std::vector<float>{}));
  EXPECT_EQ(per_channel_absmax(nullptr, 2, 0), (std::vector<float>{0.0f, 0.0f}));
  EXPECT_THROW(per_channel_absmax(w.data(), -1, 3), Error);
  std::vector<float> bad = w;
  bad[7] = std::numeric_limits<float>::infinity();
  const std::string msg = error_of([&] { per_channel_absmax(bad.data(), 3, 3); });
  EXPECT_NE(msg.find("channel 2"), std::string::npos) << msg;
}

// ---- edge cases, every kind ----------------------------------------------------------------

class EveryKind : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryKind, EmptyObserverThrows) {
  auto obs = make_observer(GetParam());
  const std::string msg = error_of([&] { obs->range(kAsym); });
  EXPECT_NE(msg.find(GetParam()), std::string::npos) << msg;
  EXPECT_THROW(obs->range(kSym), Error);
  obs->observe(nullptr, 0);  // an empty batch does not count
  EXPECT_TRUE(obs->empty());
  EXPECT_THROW(obs->range(kAsym), Error);
}

TEST_P(EveryKind, InvalidLevelsThrow) {
  auto obs = make_observer(GetParam());
  const std::vector<float> v{1.0f, 2.0f};
  obs->observe(v.data(), v.size());
  EXPECT_THROW(obs->range(RangeRequest{false, 1}), Error);
  EXPECT_THROW(obs->range(RangeRequest{true, 0}), Error);
}

TEST_P(EveryKind, NonFiniteValueIsRefused) {
  auto obs = make_observer(GetParam());
  const std::vector<float> v{1.0f, std::numeric_limits<float>::quiet_NaN()};
  EXPECT_THROW(obs->observe(v.data(), v.size()), Error);
  const std::vector<float> w{1.0f, -std::numeric_limits<float>::infinity()};
  EXPECT_THROW(obs->observe(w.data(), w.size()), Error);
}

TEST_P(EveryKind, AllZeroGivesZeroRange) {
  auto obs = make_observer(GetParam());
  const std::vector<float> zeros(1000, 0.0f);
  obs->observe(zeros.data(), zeros.size());
  obs->observe(zeros.data(), 10);
  EXPECT_FALSE(obs->empty());
  for (const RangeRequest& req : {kAsym, kSym, RangeRequest{false, 16}, RangeRequest{true, 2}}) {
    const Range r = obs->range(req);
    EXPECT_EQ(r.lo, 0.0f);
    EXPECT_EQ(r.hi, 0.0f);
  }
}

TEST_P(EveryKind, ConstantTensorGivesFiniteRangeReachingTheValue) {
  for (float value : {3.5f, -2.25f, 1e-30f, 1e30f}) {
    auto obs = make_observer(GetParam());
    const std::vector<float> v(777, value);
    obs->observe(v.data(), v.size());
    obs->observe(v.data(), 5);
    for (const RangeRequest& req : {kAsym, kSym}) {
      const Range r = obs->range(req);
      ASSERT_TRUE(std::isfinite(r.lo) && std::isfinite(r.hi)) << GetParam() << " " << value;
      EXPECT_LE(r.lo, r.hi);
      // Every kind keeps the value (all of the data) in range, up to 1e-4 relative.
      const float tol = std::fabs(value) * 1e-4f;
      if (value > 0) {
        EXPECT_NEAR(r.hi, value, tol) << GetParam();
      } else {
        EXPECT_NEAR(r.lo, value, tol) << GetParam();
      }
      if (req.symmetric) {
        EXPECT_EQ(r.lo, -r.hi);
      }
    }
  }
}

TEST_P(EveryKind, SingleValue) {
  auto obs = make_observer(GetParam());
  const float x = -1.5f;
  obs->observe(&x, 1);
  Range r = obs->range(kAsym);
  EXPECT_NEAR(r.lo, -1.5f, 1.5e-4f) << GetParam();
  EXPECT_LE(r.lo, r.hi);
  EXPECT_LE(r.hi, 0.0f);
  r = obs->range(kSym);
  EXPECT_NEAR(r.hi, 1.5f, 1.5e-4f) << GetParam();
  EXPECT_EQ(r.lo, -r.hi);
}

TEST_P(EveryKind, RangeIsOrderedInsideDataAndSymmetricWhenAsked) {
  auto obs = make_observer(GetParam());
  std::vector<float> v = test::gaussian(20000, 0.7f, 2.0f, 11);
  v.push_back(-30.0f);
  test::observe_in_batches(*obs, v, 7);
  const Range a = obs->range(kAsym);
  EXPECT_LE(a.lo, a.hi);
  EXPECT_GE(a.lo, -30.0f);
  EXPECT_LE(a.hi, *std::max_element(v.begin(), v.end()));
  const Range s = obs->range(kSym);
  EXPECT_EQ(s.lo, -s.hi);
  EXPECT_GT(s.hi, 0.0f);
  EXPECT_LE(s.hi, 30.0f);
}

INSTANTIATE_TEST_SUITE_P(Observers, EveryKind,
                         ::testing::Values("minmax", "moving-average", "percentile", "entropy",
                                           "mse"),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                           std::string name = param_info.param;
                           for (char& ch : name) {
                             if (ch == '-') ch = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace octet::quant
