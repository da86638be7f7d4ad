#include "engine/data/shape_util.hpp"

#include <limits>

namespace octet::data {

std::optional<size_t> checked_element_count(const std::vector<int64_t>& dims) {
  // Bounded by int64 too, so the count can always be handed back as an int64_t dim.
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) <
                                    std::numeric_limits<size_t>::max()
                                ? static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
                                : std::numeric_limits<size_t>::max();
  uint64_t count = 1;
  bool has_zero = false;
  bool overflow = false;
  for (int64_t d : dims) {
    if (d < 0) return std::nullopt;
    if (d == 0) {
      has_zero = true;
      continue;
    }
    const auto ud = static_cast<uint64_t>(d);
    if (count > kMax / ud) {
      overflow = true;
    } else {
      count *= ud;
    }
  }
  // An empty dimension anywhere makes the array empty no matter how large the others claim to be.
  if (has_zero) return size_t{0};
  if (overflow) return std::nullopt;
  return static_cast<size_t>(count);
}

std::optional<size_t> checked_byte_count(const std::vector<int64_t>& dims, size_t item_size) {
  const std::optional<size_t> count = checked_element_count(dims);
  if (!count) return std::nullopt;
  if (item_size != 0 && *count > std::numeric_limits<size_t>::max() / item_size) {
    return std::nullopt;
  }
  return *count * item_size;
}

std::string join_dims(const std::vector<int64_t>& dims, const std::string& separator) {
  std::string out;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i != 0) out += separator;
    out += std::to_string(dims[i]);
  }
  return out;
}

std::string python_tuple(const std::vector<int64_t>& dims) {
  if (dims.size() == 1) return "(" + std::to_string(dims[0]) + ",)";
  return "(" + join_dims(dims, ", ") + ")";
}

}  // namespace octet::data
