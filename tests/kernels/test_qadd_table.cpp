// The table-driven residual Add against the reference on every pair of codes, in an order
// unrelated to the table's, with broadcasting and several thread counts.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include "kernels/qadd_table_s8.hpp"
#include "kernels/ref/qadd_s8_ref.hpp"

namespace {

using octet::kernels::QAddParams;

// Scales 100x apart with a fused ReLU-like clamp and a positive output shift: the cases where
// the three fixed-point steps round and saturate.
const QAddParams kConfigs[] = {
    {20, 7, -3, -128, {1073741824, 0}, {1149096268, -6}, {1717986918, -12}, -128, 127},
    {20, -128, 127, 5, {1500000000, -1}, {1073741824, 0}, {1073741824, 3}, 5, 127},
};

TEST(QAddTable, EveryPairOfCodesMatchesTheReferenceForAnyThreadCount) {
  std::vector<int> order(65536);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937(5));
  // 65536 pairs plus a repeated tail so the count is large enough for the threaded loop.
  std::vector<int8_t> a, b;
  for (int i = 0; i < 3 * 65536 + 7; ++i) {
    const int pair = order[static_cast<size_t>(i % 65536)];
    a.push_back(static_cast<int8_t>(pair / 256 - 128));
    b.push_back(static_cast<int8_t>(pair % 256 - 128));
  }
  const int64_t count = static_cast<int64_t>(a.size());
  for (const QAddParams& p : kConfigs) {
    std::vector<int8_t> expected(a.size()), got(a.size());
    octet::kernels::qadd_s8_ref(count, a.data(), b.data(), count, p, expected.data());
    const std::vector<int8_t> table = octet::kernels::make_qadd_table_s8(p);
    for (int threads : {1, 2, 3}) {
      std::fill(got.begin(), got.end(), int8_t{0});
      octet::kernels::qadd_table_s8(count, a.data(), b.data(), count, table.data(), got.data(), threads);
      EXPECT_EQ(got, expected) << threads << " thread(s)";
    }
  }
}

TEST(QAddTable, BroadcastScalarSecondInput) {
  std::vector<int8_t> a(300);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<int8_t>(static_cast<int>(i * 37 % 256) - 128);
  for (const QAddParams& p : kConfigs) {
    const std::vector<int8_t> table = octet::kernels::make_qadd_table_s8(p);
    for (int8_t b : {int8_t{-128}, int8_t{0}, int8_t{127}}) {
      std::vector<int8_t> expected(a.size()), got(a.size());
      octet::kernels::qadd_s8_ref(300, a.data(), &b, 1, p, expected.data());
      octet::kernels::qadd_table_s8(300, a.data(), &b, 1, table.data(), got.data());
      EXPECT_EQ(got, expected) << "b = " << int{b};
    }
  }
}

}  // namespace
