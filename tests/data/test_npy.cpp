#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <random>

#include "engine/data/data_error.hpp"
#include "engine/data/npy.hpp"
#include "test_helpers.hpp"

namespace octet::data {
namespace {

using namespace std::string_literals;

using test::npy_bytes;
using test::raw_bytes;
using test::read_file;
using test::TempDir;
using test::throws_data_error;
using test::write_file;

const std::vector<std::vector<int64_t>> kShapes = {{}, {0}, {5}, {2, 3}, {2, 0, 4}, {1, 2, 3, 4}};

size_t product(const std::vector<int64_t>& shape) {
  size_t n = 1;
  for (int64_t d : shape) n *= static_cast<size_t>(d);
  return n;
}

template <typename T>
std::vector<T> ramp(size_t n, T start, T step) {
  std::vector<T> values(n);
  for (size_t i = 0; i < n; ++i) values[i] = static_cast<T>(start + static_cast<T>(i) * step);
  return values;
}

template <typename T>
void expect_round_trip(NpyType type, T start, T step, const T* (NpyArray::*view)() const) {
  TempDir tmp;
  for (const auto& shape : kShapes) {
    SCOPED_TRACE(::testing::Message() << "shape rank " << shape.size());
    const std::vector<T> values = ramp<T>(product(shape), start, step);
    const std::string path = tmp.path("a.npy");
    write_npy(path, shape, values.data());
    const NpyArray array = read_npy(path);
    EXPECT_EQ(array.shape, shape);
    EXPECT_EQ(array.dtype, type);
    ASSERT_EQ(array.count(), values.size());
    ASSERT_EQ(array.bytes.size(), values.size() * sizeof(T));
    const T* data = (array.*view)();
    for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ(data[i], values[i]) << "element " << i;
  }
}

TEST(Npy, RoundTripFloat32) {
  expect_round_trip<float>(NpyType::f32, -1.5f, 0.25f, &NpyArray::f32);
}

TEST(Npy, RoundTripUint8) {
  expect_round_trip<uint8_t>(NpyType::u8, uint8_t{250}, uint8_t{3}, &NpyArray::u8);
}

TEST(Npy, RoundTripInt64) {
  expect_round_trip<int64_t>(NpyType::i64, int64_t{-3}, int64_t{1} << 40, &NpyArray::i64);
}

TEST(Npy, RoundTripInt32) {
  expect_round_trip<int32_t>(NpyType::i32, int32_t{-70000}, int32_t{12345}, &NpyArray::i32);
}

TEST(Npy, ScalarArrayHasOneElement) {
  TempDir tmp;
  const float value = 42.5f;
  write_npy(tmp.path("s.npy"), {}, &value);
  const NpyArray array = read_npy(tmp.path("s.npy"));
  EXPECT_TRUE(array.shape.empty());
  ASSERT_EQ(array.count(), 1u);
  EXPECT_EQ(array.f32()[0], 42.5f);
}

TEST(Npy, WrittenFileMatchesNumpyLayout) {
  TempDir tmp;
  const std::vector<float> values = {1, 2, 3, 4, 5, 6};
  write_npy(tmp.path("a.npy"), {2, 3}, values.data());
  const std::string bytes = read_file(tmp.path("a.npy"));
  // 10-byte preamble + 60-byte dict + '\n' is padded with spaces to 128, as NumPy does.
  ASSERT_EQ(bytes.size(), 128u + 24u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  EXPECT_EQ(static_cast<uint8_t>(bytes[8]) | (static_cast<uint8_t>(bytes[9]) << 8), 128 - 10);
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  EXPECT_EQ(bytes.substr(10, dict.size()), dict);
  EXPECT_EQ(bytes.substr(10 + dict.size(), 127 - 10 - dict.size()),
            std::string(127 - 10 - dict.size(), ' '));
  EXPECT_EQ(bytes[127], '\n');
  EXPECT_EQ(bytes.substr(128), raw_bytes(values));
}

TEST(Npy, OneDimensionalShapeIsWrittenAsPythonTuple) {
  TempDir tmp;
  const std::vector<uint8_t> values = {1, 2, 3};
  write_npy(tmp.path("a.npy"), {3}, values.data());
  EXPECT_NE(read_file(tmp.path("a.npy")).find("'shape': (3,)"), std::string::npos);
  EXPECT_NE(read_file(tmp.path("a.npy")).find("'descr': '|u1'"), std::string::npos);
}

TEST(Npy, ReadsVersion2And3Headers) {
  TempDir tmp;
  const std::vector<int32_t> values = {7, -8, 9};
  for (int major : {2, 3}) {
    SCOPED_TRACE(major);
    write_file(tmp.path("v.npy"),
               npy_bytes(major, "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }",
                         raw_bytes(values)));
    const NpyArray array = read_npy(tmp.path("v.npy"));
    EXPECT_EQ(array.shape, std::vector<int64_t>{3});
    ASSERT_EQ(array.dtype, NpyType::i32);
    EXPECT_EQ(std::vector<int32_t>(array.i32(), array.i32() + 3), values);
  }
}

TEST(Npy, AcceptsHeaderSpellingVariants) {
  TempDir tmp;
  const std::vector<uint8_t> values = {1, 2, 3, 4, 5, 6};
  const std::vector<std::string> dicts = {
      "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }",
      "{\"shape\": (2,3), \"descr\": \"<u1\", \"fortran_order\": False}",
      "{ 'fortran_order' :False ,'shape':( 2 , 3 , ),'descr':'|u1' }",
      "{'descr': '|u1', 'fortran_order': False, 'shape': (2L, 3L)}",  // Python 2 writers
  };
  for (const std::string& dict : dicts) {
    SCOPED_TRACE(dict);
    write_file(tmp.path("v.npy"), npy_bytes(1, dict, raw_bytes(values)));
    const NpyArray array = read_npy(tmp.path("v.npy"));
    EXPECT_EQ(array.shape, (std::vector<int64_t>{2, 3}));
    EXPECT_EQ(array.dtype, NpyType::u8);
  }
}

TEST(Npy, EveryTruncationIsAnError) {
  TempDir tmp;
  const std::vector<float> values = {1, 2, 3, 4, 5, 6};
  for (int major : {1, 2}) {
    const std::string full = npy_bytes(
        major, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", raw_bytes(values));
    write_file(tmp.path("full.npy"), full);
    ASSERT_NO_THROW(read_npy(tmp.path("full.npy")));
    for (size_t length = 0; length < full.size(); ++length) {
      write_file(tmp.path("cut.npy"), full.substr(0, length));
      EXPECT_TRUE(throws_data_error([&] { read_npy(tmp.path("cut.npy")); }, {"cut.npy"}))
          << "version " << major << ", prefix of " << length << " bytes";
    }
  }
}

TEST(Npy, TruncatedDataMessageGivesBothSizes) {
  TempDir tmp;
  write_file(tmp.path("t.npy"),
             npy_bytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                       std::string(10, 'x')));
  EXPECT_TRUE(throws_data_error([&] { read_npy(tmp.path("t.npy")); },
                                {"truncated", "(2, 3)", "24 bytes", "10 bytes"}));
}

TEST(Npy, TrailingDataIsAnError) {
  TempDir tmp;
  write_file(tmp.path("t.npy"),
             npy_bytes(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (4,), }",
                       std::string(6, 'x')));
  EXPECT_TRUE(
      throws_data_error([&] { read_npy(tmp.path("t.npy")); }, {"trailing data", "6 bytes"}));
}

TEST(Npy, FortranOrderIsRejected) {
  TempDir tmp;
  write_file(tmp.path("f.npy"),
             npy_bytes(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }",
                       std::string(24, '\0')));
  EXPECT_TRUE(throws_data_error([&] { read_npy(tmp.path("f.npy")); },
                                {"f.npy", "Fortran-order arrays are not supported"}));
}

TEST(Npy, BigEndianIsRejected) {
  TempDir tmp;
  for (const std::string descr : {">f4", ">i8", ">i4"}) {
    write_file(tmp.path("b.npy"),
               npy_bytes(1, "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (1,), }",
                         std::string(8, '\0')));
    EXPECT_TRUE(throws_data_error([&] { read_npy(tmp.path("b.npy")); }, {"big-endian", descr}));
  }
}

TEST(Npy, UnsupportedDtypesAreRejected) {
  TempDir tmp;
  for (const std::string descr : {"<f8", "|b1", "<f2", "|i1", "<u4", "<U3", "O"}) {
    write_file(tmp.path("d.npy"),
               npy_bytes(1, "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (1,), }",
                         std::string(8, '\0')));
    EXPECT_TRUE(
        throws_data_error([&] { read_npy(tmp.path("d.npy")); }, {"unsupported dtype", descr}));
  }
  write_file(tmp.path("s.npy"),
             npy_bytes(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }",
                       std::string(4, '\0')));
  EXPECT_TRUE(throws_data_error([&] { read_npy(tmp.path("s.npy")); }, {"structured"}));
}

TEST(Npy, MalformedHeadersAreRejected) {
  TempDir tmp;
  std::vector<std::string> dicts = {
      "",
      "not a dict",
      "{'descr': '<f4', 'fortran_order': False}",                                 // no shape
      "{'descr': '<f4', 'shape': (1,)}",                                          // no order
      "{'fortran_order': False, 'shape': (1,)}",                                  // no descr
      "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}",  // duplicate
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}",
      "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': [1]}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1.5,)}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1 2)}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} trailing",
      "{'descr': '<f4, 'fortran_order': False, 'shape': (1,)}",
      "{'descr': 'a\\'b', 'fortran_order': False, 'shape': (1,)}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)\0}"s,  // embedded NUL
  };
  std::string many_dims = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
  for (int i = 0; i < 65; ++i) many_dims += "1,";
  many_dims += ")}";
  dicts.push_back(many_dims);
  for (const std::string& dict : dicts) {
    write_file(tmp.path("h.npy"), npy_bytes(1, dict, std::string(4, '\0')));
    EXPECT_TRUE(throws_data_error([&] { read_npy(tmp.path("h.npy")); }, {"h.npy"})) << dict;
  }
}

TEST(Npy, OverflowingShapeIsRejectedWithoutAllocating) {
  TempDir tmp;
  write_file(tmp.path("o.npy"), npy_bytes(1,
                                          "{'descr': '<i8', 'fortran_order': False, 'shape': "
                                          "(9223372036854775807, 9223372036854775807), }",
                                          ""));
  EXPECT_TRUE(throws_data_error([&] { read_npy(tmp.path("o.npy")); }, {"too large"}));
  // Fits in size_t but is far larger than the file: must report truncation, not try 8 EB.
  write_file(
      tmp.path("big.npy"),
      npy_bytes(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (1000000000000,), }", "abc"));
  EXPECT_TRUE(throws_data_error([&] { read_npy(tmp.path("big.npy")); }, {"truncated", "3 bytes"}));
}

TEST(Npy, BadPreambleIsRejected) {
  TempDir tmp;
  const std::string good =
      npy_bytes(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (1,)}", "x");
  write_file(tmp.path("p.npy"), "PK\x03\x04 this is a zip");
  EXPECT_TRUE(throws_data_error([&] { read_npy(tmp.path("p.npy")); }, {"not a .npy file"}));

  std::string version = good;
  version[6] = 4;
  write_file(tmp.path("p.npy"), version);
  EXPECT_TRUE(throws_data_error([&] { read_npy(tmp.path("p.npy")); }, {"version 4.0"}));
  version[6] = 1;
  version[7] = 1;
  write_file(tmp.path("p.npy"), version);
  EXPECT_TRUE(throws_data_error([&] { read_npy(tmp.path("p.npy")); }, {"version 1.1"}));

  // A version 2.0 header claiming a 4 GiB dict.
  write_file(tmp.path("p.npy"), std::string("\x93NUMPY\x02\x00\xff\xff\xff\xff{}", 14));
  EXPECT_TRUE(throws_data_error([&] { read_npy(tmp.path("p.npy")); }, {"implausibly large"}));

  write_file(tmp.path("p.npy"), "");
  EXPECT_TRUE(throws_data_error([&] { read_npy(tmp.path("p.npy")); }, {"empty"}));
}

TEST(Npy, MissingFileAndDirectoryAreErrors) {
  TempDir tmp;
  EXPECT_TRUE(throws_data_error([&] { read_npy(tmp.path("missing.npy")); },
                                {"missing.npy", "cannot open", "No such file"}));
  EXPECT_TRUE(throws_data_error([&] { read_npy(tmp.dir().string()); }, {"Is a directory"}));
  // Control characters in the path are escaped so the message stays on one line.
  EXPECT_TRUE(throws_data_error([&] { read_npy(tmp.path("a\nb.npy")); }, {"a\\x0ab.npy"}));
}

TEST(Npy, TypedViewChecksDtypeAndSize) {
  NpyArray array;
  array.shape = {2};
  array.dtype = NpyType::i64;
  array.bytes.resize(16);
  EXPECT_NE(array.i64(), nullptr);
  EXPECT_TRUE(throws_data_error([&] { array.f32(); }, {"'<i8'", "'<f4'"}));
  EXPECT_TRUE(throws_data_error([&] { array.u8(); }));
  EXPECT_TRUE(throws_data_error([&] { array.i32(); }));
  array.bytes.resize(15);
  EXPECT_TRUE(throws_data_error([&] { array.i64(); }, {"do not cover"}));
  array.shape = {-1};
  EXPECT_TRUE(throws_data_error([&] { array.count(); }));
}

TEST(Npy, RandomCorruptionNeverCrashes) {
  TempDir tmp;
  const std::vector<float> values = {1, 2, 3, 4, 5, 6};
  const std::string full = npy_bytes(
      1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", raw_bytes(values));
  std::mt19937 rng(1234);
  int accepted = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string bytes = full;
    const int flips = 1 + static_cast<int>(rng() % 3);
    for (int f = 0; f < flips; ++f) {
      // Mostly hit the preamble and header, where the parsing logic lives.
      const size_t at = rng() % (rng() % 4 == 0 ? bytes.size() : 64);
      bytes[at] = static_cast<char>(rng() & 0xff);
    }
    write_file(tmp.path("r.npy"), bytes);
    try {
      const NpyArray array = read_npy(tmp.path("r.npy"));
      EXPECT_EQ(array.bytes.size(), array.count() * npy_item_size(array.dtype));
      ++accepted;
    } catch (const DataError&) {
    }
  }
  EXPECT_GT(accepted, 0);  // flips inside the data or padding are harmless
}

TEST(Npy, WriteIntoMissingDirectoryFailsAndLeavesNothing) {
  TempDir tmp;
  const float value = 1.0f;
  const std::string path = tmp.path("no/such/dir/out.npy");
  EXPECT_TRUE(throws_data_error([&] { write_npy(path, {1}, &value); }, {"out.npy"}));
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_TRUE(tmp.entries().empty());
}

TEST(Npy, FailedRenameRemovesTheTemporary) {
  TempDir tmp;
  // A directory in the way makes the final rename fail after the data was written.
  std::filesystem::create_directory(tmp.path("out.npy"));
  std::filesystem::create_directory(tmp.path("out.npy/child"));
  const std::vector<float> values(100, 1.0f);
  EXPECT_TRUE(throws_data_error([&] { write_npy(tmp.path("out.npy"), {100}, values.data()); },
                                {"out.npy"}));
  EXPECT_EQ(tmp.entries(), std::vector<std::string>{"out.npy"});
  EXPECT_TRUE(std::filesystem::is_directory(tmp.path("out.npy")));
}

TEST(Npy, WriteReplacesExistingFileWithoutLeftovers) {
  TempDir tmp;
  write_file(tmp.path("out.npy"), "old contents");
  const std::vector<int64_t> values = {1, 2};
  write_npy(tmp.path("out.npy"), {2}, values.data());
  EXPECT_EQ(tmp.entries(), std::vector<std::string>{"out.npy"});
  const NpyArray array = read_npy(tmp.path("out.npy"));
  EXPECT_EQ(std::vector<int64_t>(array.i64(), array.i64() + 2), values);
}

TEST(Npy, WriteRejectsInvalidArguments) {
  TempDir tmp;
  const float value = 0.0f;
  EXPECT_TRUE(throws_data_error([&] { write_npy(tmp.path("a.npy"), {-1}, &value); }, {"shape"}));
  EXPECT_TRUE(throws_data_error(
      [&] { write_npy(tmp.path("a.npy"), {2}, static_cast<const float*>(nullptr)); }));
  EXPECT_NO_THROW(write_npy(tmp.path("a.npy"), {0, 3}, static_cast<const float*>(nullptr)));
  EXPECT_EQ(tmp.entries(), std::vector<std::string>{"a.npy"});
}

}  // namespace
}  // namespace octet::data
