#include <gtest/gtest.h>

#include <chrono>
#include <random>

#include "engine/data/data_error.hpp"
#include "engine/data/idx.hpp"
#include "test_helpers.hpp"

namespace octet::data {
namespace {

using test::idx_bytes;
using test::read_file;
using test::TempDir;
using test::throws_data_error;
using test::write_file;
using test::write_gzip;

std::string pattern(size_t n) {
  std::string bytes(n, '\0');
  for (size_t i = 0; i < n; ++i) bytes[i] = static_cast<char>((i * 7 + 3) & 0xff);
  return bytes;
}

std::vector<uint8_t> as_vector(const std::string& bytes) {
  return std::vector<uint8_t>(bytes.begin(), bytes.end());
}

TEST(Idx, ReadsRawFilesOfOneToFourDimensions) {
  TempDir tmp;
  const std::vector<std::vector<uint32_t>> shapes = {{5}, {3, 4}, {2, 3, 4}, {2, 1, 3, 2}};
  for (const auto& dims : shapes) {
    size_t n = 1;
    for (uint32_t d : dims) n *= d;
    write_file(tmp.path("a.idx"), idx_bytes(dims, pattern(n)));
    const IdxArray array = read_idx(tmp.path("a.idx"));
    EXPECT_EQ(array.shape, std::vector<int64_t>(dims.begin(), dims.end()));
    EXPECT_EQ(array.data, as_vector(pattern(n)));
  }
}

TEST(Idx, ReadsGzipFiles) {
  TempDir tmp;
  write_gzip(tmp.path("images.gz"), idx_bytes({10, 28, 28}, pattern(7840)));
  const IdxArray array = read_idx(tmp.path("images.gz"));
  EXPECT_EQ(array.shape, (std::vector<int64_t>{10, 28, 28}));
  EXPECT_EQ(array.data, as_vector(pattern(7840)));
}

TEST(Idx, GzipIsDetectedFromContentNotName) {
  TempDir tmp;
  const std::string bytes = idx_bytes({4}, "abcd");
  write_gzip(tmp.path("compressed.idx"), bytes);
  write_file(tmp.path("plain.gz"), bytes);
  EXPECT_EQ(read_idx(tmp.path("compressed.idx")).data, as_vector("abcd"));
  EXPECT_EQ(read_idx(tmp.path("plain.gz")).data, as_vector("abcd"));
}

TEST(Idx, EmptyDimensionGivesEmptyData) {
  TempDir tmp;
  write_file(tmp.path("e.idx"), idx_bytes({0, 28, 28}, ""));
  const IdxArray array = read_idx(tmp.path("e.idx"));
  EXPECT_EQ(array.shape, (std::vector<int64_t>{0, 28, 28}));
  EXPECT_TRUE(array.data.empty());
}

TEST(Idx, TruncatedDataReportsBothSizes) {
  TempDir tmp;
  const std::string bytes = idx_bytes({2, 3, 4}, pattern(10));
  write_file(tmp.path("t.idx"), bytes);
  write_gzip(tmp.path("t.idx.gz"), bytes);
  for (const std::string name : {"t.idx", "t.idx.gz"}) {
    EXPECT_TRUE(throws_data_error([&] { read_idx(tmp.path(name), "test images"); },
                                  {"test images '", name,
                                   "': truncated: header says 2×3×4 = 24 bytes, file has 10 "
                                   "bytes of data"}));
  }
}

TEST(Idx, TrailingDataIsAnError) {
  TempDir tmp;
  const std::string bytes = idx_bytes({2, 3}, pattern(9));
  write_file(tmp.path("t.idx"), bytes);
  write_gzip(tmp.path("t.idx.gz"), bytes);
  for (const std::string name : {"t.idx", "t.idx.gz"}) {
    EXPECT_TRUE(throws_data_error([&] { read_idx(tmp.path(name)); },
                                  {"trailing data", "2×3 = 6 bytes", "9 bytes"}));
  }
}

TEST(Idx, EveryTruncationIsAnError) {
  TempDir tmp;
  const std::string raw = idx_bytes({3, 2, 2}, pattern(12));
  write_gzip(tmp.path("full.gz"), raw);
  const std::string compressed = read_file(tmp.path("full.gz"));
  for (const std::string* full : {&raw, &compressed}) {
    write_file(tmp.path("full"), *full);
    ASSERT_NO_THROW(read_idx(tmp.path("full")));
    for (size_t length = 0; length < full->size(); ++length) {
      write_file(tmp.path("cut"), full->substr(0, length));
      EXPECT_TRUE(throws_data_error([&] { read_idx(tmp.path("cut")); }, {"cut"}))
          << (full == &raw ? "raw" : "gzip") << " prefix of " << length << " bytes";
    }
  }
}

TEST(Idx, CutGzipStreamReportsHowMuchDataArrived) {
  TempDir tmp;
  std::mt19937 rng(7);  // incompressible payload, so cutting the file cuts the data
  std::string payload(20000, '\0');
  for (char& c : payload) c = static_cast<char>(rng() & 0xff);
  write_gzip(tmp.path("full.gz"), idx_bytes({20000}, payload));
  const std::string compressed = read_file(tmp.path("full.gz"));

  write_file(tmp.path("half.gz"), compressed.substr(0, compressed.size() / 2));
  EXPECT_TRUE(throws_data_error([&] { read_idx(tmp.path("half.gz")); },
                                {"truncated: header says 20000 = 20000 bytes, file has ",
                                 " bytes of data (gzip stream is cut short)"}));

  // All the data is there but the CRC/length trailer is missing: still a damaged file.
  write_file(tmp.path("notrailer.gz"), compressed.substr(0, compressed.size() - 8));
  EXPECT_TRUE(throws_data_error([&] { read_idx(tmp.path("notrailer.gz")); },
                                {"truncated: gzip stream is cut short"}));
}

TEST(Idx, CorruptGzipStreamIsAnError) {
  TempDir tmp;
  write_gzip(tmp.path("full.gz"), idx_bytes({100}, pattern(100)));
  std::string bytes = read_file(tmp.path("full.gz"));
  // Damage the deflate data and the CRC trailer; zlib must notice one or the other.
  for (size_t i = 12; i < bytes.size(); ++i) bytes[i] = static_cast<char>(bytes[i] ^ 0x5a);
  write_file(tmp.path("bad.gz"), bytes);
  EXPECT_TRUE(throws_data_error([&] { read_idx(tmp.path("bad.gz")); }, {"bad.gz"}));
}

TEST(Idx, BadHeadersAreRejected) {
  TempDir tmp;
  write_file(tmp.path("h"), std::string("\x01\x02\x08\x01\x00\x00\x00\x01x", 9));
  EXPECT_TRUE(throws_data_error([&] { read_idx(tmp.path("h")); }, {"not an IDX file"}));
  write_file(tmp.path("h"), idx_bytes({1}, "abcd", 0x0D));
  EXPECT_TRUE(throws_data_error([&] { read_idx(tmp.path("h")); },
                                {"unsupported element type 0x0D (float32)"}));
  write_file(tmp.path("h"), idx_bytes({}, ""));
  EXPECT_TRUE(throws_data_error([&] { read_idx(tmp.path("h")); }, {"dimensions 0"}));
  write_file(tmp.path("h"), idx_bytes({1, 1, 1, 1, 1}, "x"));
  EXPECT_TRUE(throws_data_error([&] { read_idx(tmp.path("h")); }, {"dimensions 5"}));
}

TEST(Idx, AbsurdDimensionsFailFastWithoutHugeAllocations) {
  TempDir tmp;
  write_file(tmp.path("o"), idx_bytes({0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}, "x"));
  EXPECT_TRUE(throws_data_error([&] { read_idx(tmp.path("o")); }, {"too large"}));

  // 4 G × 4 G × 255 overflows int64 only in the last step.
  write_file(tmp.path("o"), idx_bytes({0xFFFFFFFF, 0xFFFFFFFF, 0xFF}, "x"));
  EXPECT_TRUE(throws_data_error([&] { read_idx(tmp.path("o")); }, {"too large"}));

  // Claims 16 GiB but holds 3 bytes: must answer "truncated" at once, not allocate 16 GiB.
  const auto start = std::chrono::steady_clock::now();
  write_gzip(tmp.path("big.gz"), idx_bytes({0xFFFFFFFF, 4}, "abc"));
  EXPECT_TRUE(throws_data_error([&] { read_idx(tmp.path("big.gz")); },
                                {"truncated", "4294967295×4", "3 bytes of data"}));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(Idx, MissingFileIsAnError) {
  TempDir tmp;
  EXPECT_TRUE(throws_data_error([&] { read_idx(tmp.path("nope.gz"), "mnist test labels"); },
                                {"mnist test labels '", "nope.gz", "cannot open"}));
}

}  // namespace
}  // namespace octet::data
