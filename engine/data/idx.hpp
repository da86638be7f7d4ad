#pragma once
// IDX arrays, the format of MNIST and Fashion-MNIST, raw or gzip-compressed (detected from the
// content, not the file name). Only the unsigned-byte element type is supported.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace octet::data {

struct IdxArray {
  std::vector<int64_t> shape;  // 1 to 4 dims, e.g. {10000, 28, 28}
  std::vector<uint8_t> data;   // product(shape) bytes in C order
};

// `what` only changes how error messages describe the file ("fashion-mnist test images", ...).
IdxArray read_idx(const std::string& path, const std::string& what = "IDX file");

}  // namespace octet::data
