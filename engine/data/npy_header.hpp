#pragma once
// The .npy preamble: magic, version, header length and the Python-literal dict describing the
// array. Internal to octet_data; callers use npy.hpp.
#include <cstdint>
#include <string>
#include <vector>

#include "engine/data/npy.hpp"

namespace octet::data {

struct NpyHeader {
  NpyType dtype = NpyType::f32;
  bool fortran_order = false;
  std::vector<int64_t> shape;
};

// Parses the dict text, e.g. "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }".
// Problems are thrown as DataError via file_error(what, path, ...). Rejects unsupported and
// big-endian dtypes here; Fortran order is reported to the caller.
NpyHeader parse_npy_header(const std::string& text, const std::string& what,
                           const std::string& path);

// The complete preamble (magic through padding and '\n') for a C-order array. Uses version 1.0
// unless the dict is too long for its 16-bit length field. Total length is a multiple of 64 so
// the data that follows is aligned for memory mapping, as NumPy does.
std::string format_npy_preamble(NpyType dtype, const std::vector<int64_t>& shape);

}  // namespace octet::data
