#include "engine/data/idx.hpp"

#include <cstdio>
#include <optional>

#include "engine/data/byte_reader.hpp"
#include "engine/data/shape_util.hpp"

namespace octet::data {

namespace {

constexpr uint8_t kUnsignedByte = 0x08;
constexpr int kMaxRank = 4;

const char* idx_type_name(uint8_t code) {
  switch (code) {
    case 0x08:
      return "unsigned byte";
    case 0x09:
      return "signed byte";
    case 0x0B:
      return "int16";
    case 0x0C:
      return "int32";
    case 0x0D:
      return "float32";
    case 0x0E:
      return "float64";
    default:
      return "unknown";
  }
}

std::string hex_byte(uint8_t value) {
  char text[8];
  std::snprintf(text, sizeof text, "0x%02X", static_cast<unsigned>(value));
  return text;
}

}  // namespace

IdxArray read_idx(const std::string& path, const std::string& what) {
  ByteReader in(what, path, ByteReader::Gzip::detect);

  // Magic: two zero bytes, the element type code, the number of dimensions.
  uint8_t magic[4];
  const size_t got = in.read(magic, sizeof magic);
  if (got < sizeof magic) {
    in.fail("truncated: " + std::to_string(got) + " bytes, too short for the IDX magic number" +
            in.truncation_note());
  }
  if (magic[0] != 0 || magic[1] != 0) {
    in.fail("not an IDX file (bad magic " + hex_byte(magic[0]) + " " + hex_byte(magic[1]) + " " +
            hex_byte(magic[2]) + " " + hex_byte(magic[3]) + ")");
  }
  if (magic[2] != kUnsignedByte) {
    in.fail("unsupported element type " + hex_byte(magic[2]) + " (" + idx_type_name(magic[2]) +
            "); only unsigned byte (0x08) is supported");
  }
  const int rank = magic[3];
  if (rank < 1 || rank > kMaxRank) {
    in.fail("unsupported number of dimensions " + std::to_string(rank) + " (expected 1 to 4)");
  }

  IdxArray array;
  for (int i = 0; i < rank; ++i) {
    uint8_t field[4];
    if (in.read(field, sizeof field) != sizeof field) {
      in.fail("truncated: file ends inside the dimension sizes" + in.truncation_note());
    }
    // Dimension sizes are big-endian uint32.
    const uint32_t dim = (uint32_t{field[0]} << 24) | (uint32_t{field[1]} << 16) |
                         (uint32_t{field[2]} << 8) | uint32_t{field[3]};
    array.shape.push_back(dim);
  }

  const std::optional<size_t> expected = checked_element_count(array.shape);
  if (!expected) in.fail("dimensions " + join_dims(array.shape, "×") + " are too large");
  const std::string claim =
      "header says " + join_dims(array.shape, "×") + " = " + std::to_string(*expected) + " bytes";

  array.data = in.read_up_to(*expected);
  if (array.data.size() < *expected) {
    in.fail("truncated: " + claim + ", file has " + std::to_string(array.data.size()) +
            " bytes of data" + in.truncation_note());
  }
  const uint64_t extra = in.count_remaining();
  if (extra != 0) {
    in.fail("trailing data: " + claim + ", file has " + std::to_string(*expected + extra) +
            " bytes of data");
  }
  return array;
}

}  // namespace octet::data
