#include "engine/data/npy.hpp"

#include <algorithm>
#include <cstring>
#include <optional>

#include "engine/data/atomic_file.hpp"
#include "engine/data/byte_reader.hpp"
#include "engine/data/data_error.hpp"
#include "engine/data/npy_header.hpp"
#include "engine/data/shape_util.hpp"

// Data is read and written as raw host-order bytes, which is only right on little-endian hosts.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "octet_data assumes a little-endian host");

namespace octet::data {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;
constexpr size_t kMaxRank = 64;
// NumPy writes headers of a few hundred bytes; a huge length means a corrupt or hostile file.
constexpr uint32_t kMaxHeaderLength = 1u << 20;

uint32_t read_le(const uint8_t* p, int bytes) {
  uint32_t value = 0;
  for (int i = bytes - 1; i >= 0; --i) value = (value << 8) | p[i];
  return value;
}

std::string describe_size(const std::vector<int64_t>& shape, NpyType dtype, size_t bytes) {
  return "header says shape " + python_tuple(shape) + " of '" + npy_descr(dtype) +
         "' = " + std::to_string(bytes) + " bytes";
}

template <typename T>
void write_typed(const std::string& path, const std::vector<int64_t>& shape, const T* data,
                 NpyType dtype) {
  const std::string what = "npy output";
  if (shape.size() > kMaxRank) {
    throw file_error(what, path, std::to_string(shape.size()) + " dimensions (NumPy allows 64)");
  }
  const std::optional<size_t> bytes = checked_byte_count(shape, sizeof(T));
  if (!bytes) throw file_error(what, path, "invalid shape " + python_tuple(shape));
  if (data == nullptr && *bytes != 0) throw file_error(what, path, "no data for a non-empty array");
  const std::string preamble = format_npy_preamble(dtype, shape);
  write_file_atomic(what, path, {{preamble.data(), preamble.size()}, {data, *bytes}});
}

}  // namespace

size_t npy_item_size(NpyType type) {
  switch (type) {
    case NpyType::f32:
      return 4;
    case NpyType::u8:
      return 1;
    case NpyType::i64:
      return 8;
    case NpyType::i32:
      return 4;
  }
  return 0;
}

const char* npy_descr(NpyType type) {
  switch (type) {
    case NpyType::f32:
      return "<f4";
    case NpyType::u8:
      return "|u1";
    case NpyType::i64:
      return "<i8";
    case NpyType::i32:
      return "<i4";
  }
  return "?";
}

size_t NpyArray::count() const {
  const std::optional<size_t> n = checked_element_count(shape);
  if (!n) throw DataError("npy array: invalid shape " + python_tuple(shape));
  return *n;
}

namespace {

// Shared by the typed accessors: the dtype must match and bytes must cover the whole shape.
const uint8_t* checked_data(const NpyArray& array, NpyType wanted) {
  if (array.dtype != wanted) {
    throw DataError(std::string("npy array holds '") + npy_descr(array.dtype) + "' data, not '" +
                    npy_descr(wanted) + "'");
  }
  const std::optional<size_t> bytes = checked_byte_count(array.shape, npy_item_size(wanted));
  if (!bytes || array.bytes.size() < *bytes) {
    throw DataError("npy array: " + std::to_string(array.bytes.size()) +
                    " bytes do not cover shape " + python_tuple(array.shape));
  }
  return array.bytes.data();
}

}  // namespace

// The byte vector comes from operator new, so it is suitably aligned for every element type.
const float* NpyArray::f32() const {
  return reinterpret_cast<const float*>(checked_data(*this, NpyType::f32));
}
const uint8_t* NpyArray::u8() const {
  return checked_data(*this, NpyType::u8);
}
const int64_t* NpyArray::i64() const {
  return reinterpret_cast<const int64_t*>(checked_data(*this, NpyType::i64));
}
const int32_t* NpyArray::i32() const {
  return reinterpret_cast<const int32_t*>(checked_data(*this, NpyType::i32));
}

NpyArray read_npy(const std::string& path, const std::string& what) {
  ByteReader in(what, path, ByteReader::Gzip::never);

  uint8_t start[8];
  const size_t got = in.read(start, sizeof start);
  if (std::memcmp(start, kMagic, std::min(got, kMagicSize)) != 0) {
    in.fail("not a .npy file (bad magic bytes)");
  }
  if (got < sizeof start) {
    in.fail(got == 0 ? "empty file" : "truncated: file is " + std::to_string(got) + " bytes");
  }
  const int major = start[6];
  const int minor = start[7];
  if (minor != 0 || major < 1 || major > 3) {
    in.fail("unsupported .npy format version " + std::to_string(major) + "." +
            std::to_string(minor));
  }

  // Version 1.0 has a 16-bit header length; 2.0 and 3.0 widened it to 32 bits.
  const int length_bytes = major == 1 ? 2 : 4;
  uint8_t length_field[4];
  if (in.read(length_field, static_cast<size_t>(length_bytes)) !=
      static_cast<size_t>(length_bytes)) {
    in.fail("truncated: file ends inside the header length");
  }
  const uint32_t header_length = read_le(length_field, length_bytes);
  if (header_length > kMaxHeaderLength) {
    in.fail("header length " + std::to_string(header_length) + " is implausibly large");
  }
  const std::vector<uint8_t> header_bytes = in.read_up_to(header_length);
  if (header_bytes.size() < header_length) {
    in.fail("truncated: file ends inside the header (" + std::to_string(header_bytes.size()) +
            " of " + std::to_string(header_length) + " bytes)");
  }
  const std::string header_text(header_bytes.begin(), header_bytes.end());
  const NpyHeader header = parse_npy_header(header_text, what, path);
  if (header.fortran_order) in.fail("Fortran-order arrays are not supported");

  const std::optional<size_t> expected =
      checked_byte_count(header.shape, npy_item_size(header.dtype));
  if (!expected) in.fail("shape " + python_tuple(header.shape) + " is too large");

  NpyArray array;
  array.shape = header.shape;
  array.dtype = header.dtype;
  array.bytes = in.read_up_to(*expected);
  if (array.bytes.size() < *expected) {
    in.fail("truncated: " + describe_size(header.shape, header.dtype, *expected) + ", file has " +
            std::to_string(array.bytes.size()) + " bytes of data");
  }
  const uint64_t extra = in.count_remaining();
  if (extra != 0) {
    in.fail("trailing data: " + describe_size(header.shape, header.dtype, *expected) +
            ", file has " + std::to_string(*expected + extra) + " bytes of data");
  }
  return array;
}

void write_npy(const std::string& path, const std::vector<int64_t>& shape, const float* data) {
  write_typed(path, shape, data, NpyType::f32);
}
void write_npy(const std::string& path, const std::vector<int64_t>& shape, const uint8_t* data) {
  write_typed(path, shape, data, NpyType::u8);
}
void write_npy(const std::string& path, const std::vector<int64_t>& shape, const int64_t* data) {
  write_typed(path, shape, data, NpyType::i64);
}
void write_npy(const std::string& path, const std::vector<int64_t>& shape, const int32_t* data) {
  write_typed(path, shape, data, NpyType::i32);
}

}  // namespace octet::data
