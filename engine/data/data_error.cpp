#include "engine/data/data_error.hpp"

#include <cstdio>

namespace octet::data {

namespace {

std::string one_line(std::string message) {
  for (char& c : message) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return message;
}

}  // namespace

DataError::DataError(const std::string& message) : std::runtime_error(one_line(message)) {}

std::string quoted(const std::string& text, size_t max_chars) {
  std::string out = "'";
  size_t emitted = 0;
  for (char c : text) {
    if (emitted == max_chars) {
      out += "...";
      break;
    }
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", static_cast<unsigned>(byte));
      out += escaped;
    } else {
      out += c;
    }
    ++emitted;
  }
  out += "'";
  return out;
}

DataError file_error(const std::string& what, const std::string& path, const std::string& problem) {
  return DataError(what + " " + quoted(path) + ": " + problem);
}

}  // namespace octet::data
