#pragma once
// Size arithmetic on dimensions read from untrusted headers. Everything is overflow-checked
// because a forged header must produce an error, never a wrapped-around small allocation.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace octet::data {

// Product of `dims` (1 for no dims); nullopt if a dim is negative or the product overflows.
std::optional<size_t> checked_element_count(const std::vector<int64_t>& dims);

// checked_element_count(dims) * item_size, also nullopt if that overflows.
std::optional<size_t> checked_byte_count(const std::vector<int64_t>& dims, size_t item_size);

// Dims joined by `separator`: join_dims({10000, 28, 28}, "×") == "10000×28×28".
std::string join_dims(const std::vector<int64_t>& dims, const std::string& separator);

// Python tuple spelling used by .npy headers: "()", "(5,)", "(2, 3)".
std::string python_tuple(const std::vector<int64_t>& dims);

}  // namespace octet::data
