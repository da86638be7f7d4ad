#pragma once
// Parsing of comma-separated float lists given on the command line (--mean, --std).
#include <string>
#include <vector>

namespace octet::data {

// "0.5" -> {0.5}; "0.485, 0.456,0.406" -> three values. Spaces around items are ignored.
// Empty items, non-numbers and non-finite values throw DataError quoting the offending text.
// Parsing ignores the C locale, so "0.5" works even where the decimal separator is ','.
std::vector<float> parse_float_list(const std::string& text);

}  // namespace octet::data
