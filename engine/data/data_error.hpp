#pragma once
// The single exception type of octet_data. The CLI prints what() as its one-line diagnostic,
// so every message names the file (or dataset) and the problem, and never spans lines.
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>

namespace octet::data {

class DataError : public std::runtime_error {
 public:
  // Newlines in `message` are replaced by spaces to keep the one-line promise.
  explicit DataError(const std::string& message);
};

// `text` in single quotes with control characters escaped as \xNN, so a hostile path or
// header cannot break the message over lines. Longer texts are cut at `max_chars` with "...".
std::string quoted(const std::string& text, size_t max_chars = std::numeric_limits<size_t>::max());

// The common message shape: "<what> '<path>': <problem>".
DataError file_error(const std::string& what, const std::string& path, const std::string& problem);

}  // namespace octet::data
