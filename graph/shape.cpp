#include "graph/shape.hpp"

#include <limits>

#include "graph/error.hpp"

namespace octet {

int64_t shape_elements(const Shape& shape) {
  int64_t count = 1;
  for (int64_t dim : shape) {
    if (dim < 0) throw Error("negative dimension in shape " + shape_str(shape));
    if (dim != 0 && count > std::numeric_limits<int64_t>::max() / dim)
      throw Error("shape " + shape_str(shape) + " has too many elements");
    count *= dim;
  }
  return count;
}

std::string shape_str(const Shape& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) text += ",";
    text += std::to_string(shape[i]);
  }
  return text + "]";
}

}  // namespace octet
