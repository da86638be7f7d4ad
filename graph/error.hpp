#pragma once
// The one exception type Octet throws. Messages are single lines that name what failed and
// where (node, tensor, file), because they end up as the CLI's one-line error.
#include <stdexcept>
#include <string>

namespace octet {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace octet
