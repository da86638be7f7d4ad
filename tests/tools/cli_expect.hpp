#pragma once
// The contract every CLI failure must keep, shared by the CLI test files.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/tools/cli_runner.hpp"

namespace octet::test {

// Non-zero exit, no crash, exactly one stderr line "octet: error: ..." containing every
// mention, and nothing on stdout.
inline void expect_one_line_error(const CliResult& result,
                                  const std::vector<std::string>& mentions) {
  EXPECT_FALSE(result.crashed) << result.err;
  EXPECT_NE(result.exit_code, 0);
  const auto lines = result.err_lines();
  ASSERT_EQ(lines.size(), 1u) << "stderr was:\n" << result.err;
  EXPECT_EQ(lines[0].rfind("octet: error: ", 0), 0u) << lines[0];
  for (const auto& mention : mentions)
    EXPECT_NE(lines[0].find(mention), std::string::npos) << lines[0];
  EXPECT_TRUE(result.out.empty()) << result.out;
}

}  // namespace octet::test
