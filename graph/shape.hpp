#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace octet {

// Dimensions, outermost first (NCHW for images).
using Shape = std::vector<int64_t>;

// Product of the dimensions; throws octet::Error if a dimension is negative or the product
// overflows (shapes come from untrusted model files).
int64_t shape_elements(const Shape& shape);
std::string shape_str(const Shape& shape);

}  // namespace octet
