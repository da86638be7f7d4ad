#pragma once
// NumPy .npy arrays (format versions 1.0, 2.0 and 3.0), C order, little-endian, and only the
// element types Octet feeds to or gets from models.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace octet::data {

enum class NpyType { f32, u8, i64, i32 };

size_t npy_item_size(NpyType type);
// The .npy "descr" spelling: "<f4", "|u1", "<i8", "<i4".
const char* npy_descr(NpyType type);

struct NpyArray {
  std::vector<int64_t> shape;  // empty for a 0-d (scalar) array
  NpyType dtype = NpyType::f32;
  std::vector<uint8_t> bytes;  // count() elements in C order, host (little-endian) byte order

  // Product of shape (1 for a 0-d array). Throws DataError if shape is invalid.
  size_t count() const;

  // Typed views of `bytes`. Throw DataError if dtype differs or bytes is too short for shape.
  const float* f32() const;
  const uint8_t* u8() const;
  const int64_t* i64() const;
  const int32_t* i32() const;
};

// `what` only changes how error messages describe the file ("labels", "npy file", ...).
NpyArray read_npy(const std::string& path, const std::string& what = "npy file");

// Writes atomically (temporary file, then rename): a failure never leaves a partial `path`.
// `data` holds product(shape) elements in C order; it may be null when that product is 0.
void write_npy(const std::string& path, const std::vector<int64_t>& shape, const float* data);
void write_npy(const std::string& path, const std::vector<int64_t>& shape, const uint8_t* data);
void write_npy(const std::string& path, const std::vector<int64_t>& shape, const int64_t* data);
void write_npy(const std::string& path, const std::vector<int64_t>& shape, const int32_t* data);

}  // namespace octet::data
