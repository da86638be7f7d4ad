#include "engine/data/float_list.hpp"

#include <charconv>
#include <cmath>
#include <system_error>

#include "engine/data/data_error.hpp"

namespace octet::data {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t';
}

std::string trim(const std::string& text) {
  size_t begin = 0;
  size_t end = text.size();
  while (begin < end && is_space(text[begin])) ++begin;
  while (end > begin && is_space(text[end - 1])) --end;
  return text.substr(begin, end - begin);
}

}  // namespace

std::vector<float> parse_float_list(const std::string& text) {
  const auto fail = [&](const std::string& problem) {
    return DataError("invalid number list " + quoted(text, 200) + ": " + problem);
  };
  if (trim(text).empty()) throw fail("empty");

  std::vector<float> values;
  size_t start = 0;
  for (;;) {
    const size_t comma = text.find(',', start);
    const std::string item =
        trim(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (item.empty()) throw fail("empty item");
    // from_chars rejects a leading '+', which people naturally write; allow exactly one.
    const size_t skip =
        (item[0] == '+' && item.size() > 1 && item[1] != '-' && item[1] != '+') ? 1 : 0;
    float value = 0.0f;
    const char* first = item.data() + skip;
    const char* last = item.data() + item.size();
    const std::from_chars_result result = std::from_chars(first, last, value);
    if (result.ec == std::errc::result_out_of_range) throw fail(quoted(item) + " is out of range");
    if (result.ec != std::errc() || result.ptr != last)
      throw fail(quoted(item) + " is not a number");
    if (!std::isfinite(value)) throw fail(quoted(item) + " is not finite");
    values.push_back(value);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return values;
}

}  // namespace octet::data
