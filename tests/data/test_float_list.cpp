#include <gtest/gtest.h>

#include "engine/data/data_error.hpp"
#include "engine/data/float_list.hpp"
#include "test_helpers.hpp"

namespace octet::data {
namespace {

using test::throws_data_error;

TEST(FloatList, ParsesOneOrManyValues) {
  EXPECT_EQ(parse_float_list("0.5"), std::vector<float>{0.5f});
  EXPECT_EQ(parse_float_list("0.485,0.456,0.406"), (std::vector<float>{0.485f, 0.456f, 0.406f}));
  EXPECT_EQ(parse_float_list(" 1 , -2.5,\t+3e-1 "), (std::vector<float>{1.0f, -2.5f, 0.3f}));
  EXPECT_EQ(parse_float_list("127"), std::vector<float>{127.0f});
}

TEST(FloatList, RejectsBadText) {
  for (const std::string text : {"", "  ", "abc", "0.5,", ",0.5", "0.5,,1", "1.0x", "0.5 0.6",
                                 "nan", "inf", "-inf", "+-1", "1e99999", "0x10", "1,2;3"}) {
    EXPECT_TRUE(throws_data_error([&] { parse_float_list(text); }, {"invalid number list"}))
        << "'" << text << "'";
  }
  EXPECT_TRUE(throws_data_error([] { parse_float_list("0.5,abc"); }, {"'0.5,abc'", "'abc'"}));
}

}  // namespace
}  // namespace octet::data
