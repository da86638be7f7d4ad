#include "engine/data/npy_header.hpp"

#include <cstddef>
#include <limits>

#include "engine/data/data_error.hpp"
#include "engine/data/shape_util.hpp"

namespace octet::data {

namespace {

// NumPy itself caps arrays at 64 dimensions; anything beyond is a forged header.
constexpr size_t kMaxRank = 64;
constexpr size_t kAlignment = 64;

// Recursive-descent reader for the tiny subset of Python literals a .npy header uses:
// a dict of str keys whose values are str, True/False or a tuple of ints.
class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& what, const std::string& path)
      : text_(text), what_(what), path_(path) {}

  NpyHeader parse() {
    NpyHeader header;
    bool seen_descr = false, seen_fortran = false, seen_shape = false;
    skip_space();
    expect('{', "expected '{' at the start of the header dict");
    skip_space();
    while (peek() != '}') {
      const std::string key = parse_string("expected a quoted key");
      skip_space();
      expect(':', "expected ':' after key " + quoted(key, 40));
      skip_space();
      if (key == "descr") {
        mark_seen(seen_descr, key);
        header.dtype = parse_descr();
      } else if (key == "fortran_order") {
        mark_seen(seen_fortran, key);
        header.fortran_order = parse_bool();
      } else if (key == "shape") {
        mark_seen(seen_shape, key);
        header.shape = parse_shape();
      } else {
        fail("unexpected key " + quoted(key, 40));
      }
      skip_space();
      if (peek() == ',') {
        ++pos_;
        skip_space();
      } else if (peek() != '}') {
        fail("expected ',' or '}' after the value of " + quoted(key, 40));
      }
    }
    ++pos_;  // the '}'
    skip_space();
    if (pos_ != text_.size()) fail("unexpected text after the header dict");
    if (!seen_descr) fail("missing key 'descr'");
    if (!seen_fortran) fail("missing key 'fortran_order'");
    if (!seen_shape) fail("missing key 'shape'");
    return header;
  }

 private:
  [[noreturn]] void fail(const std::string& problem) const {
    throw file_error(what_, path_, "bad header: " + problem + " in " + quoted(text_, 160));
  }

  [[noreturn]] void fail_plain(const std::string& problem) const {
    throw file_error(what_, path_, problem);
  }

  // '\0' doubles as the end marker; a real NUL in the text is rejected wherever it appears.
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }

  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }

  void expect(char c, const std::string& problem) {
    if (pos_ >= text_.size() || text_[pos_] != c) fail(problem);
    ++pos_;
  }

  void mark_seen(bool& seen, const std::string& key) {
    if (seen) fail("duplicate key " + quoted(key, 40));
    seen = true;
  }

  std::string parse_string(const std::string& problem) {
    const char quote = peek();
    if (quote != '\'' && quote != '"') fail(problem);
    ++pos_;
    const size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] != quote) {
      // Escapes never occur in headers NumPy writes; refusing them keeps this parser small.
      if (text_[pos_] == '\\' || text_[pos_] == '\n') fail("unsupported character in a string");
      ++pos_;
    }
    if (pos_ >= text_.size()) fail("unterminated string");
    std::string value = text_.substr(start, pos_ - start);
    ++pos_;
    return value;
  }

  bool parse_bool() {
    if (text_.compare(pos_, 4, "True") == 0) {
      pos_ += 4;
      return true;
    }
    if (text_.compare(pos_, 5, "False") == 0) {
      pos_ += 5;
      return false;
    }
    fail("'fortran_order' must be True or False");
  }

  NpyType parse_descr() {
    if (peek() == '[') fail_plain("structured dtypes are not supported");
    const std::string descr = parse_string("'descr' must be a quoted type string");
    if (descr == "<f4") return NpyType::f32;
    if (descr == "|u1" || descr == "<u1") return NpyType::u8;
    if (descr == "<i8") return NpyType::i64;
    if (descr == "<i4") return NpyType::i32;
    if (!descr.empty() && descr[0] == '>') {
      fail_plain("big-endian data (" + quoted(descr, 20) +
                 ") is not supported; convert it with arr.astype(arr.dtype.newbyteorder('<'))");
    }
    fail_plain("unsupported dtype " + quoted(descr, 20) +
               " (supported: '<f4', '|u1', '<i8', '<i4')");
  }

  std::vector<int64_t> parse_shape() {
    expect('(', "'shape' must be a tuple");
    std::vector<int64_t> shape;
    skip_space();
    while (peek() != ')') {
      if (shape.size() == kMaxRank) fail("more than 64 dimensions");
      shape.push_back(parse_dim());
      skip_space();
      if (peek() == ',') {
        ++pos_;
        skip_space();
      } else if (peek() != ')') {
        fail("expected ',' or ')' in 'shape'");
      }
    }
    ++pos_;  // the ')'
    return shape;
  }

  int64_t parse_dim() {
    if (peek() == '-') fail_plain("negative dimension in shape");
    if (peek() < '0' || peek() > '9') fail("expected an integer in 'shape'");
    int64_t value = 0;
    while (peek() >= '0' && peek() <= '9') {
      const int digit = peek() - '0';
      if (value > (std::numeric_limits<int64_t>::max() - digit) / 10) {
        fail_plain("dimension in shape is too large");
      }
      value = value * 10 + digit;
      ++pos_;
    }
    if (peek() == 'L' || peek() == 'l') ++pos_;  // Python 2 era writers emitted long literals
    return value;
  }

  const std::string& text_;
  const std::string& what_;
  const std::string& path_;
  size_t pos_ = 0;
};

void append_le(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((value >> (8 * i)) & 0xffu);
}

}  // namespace

NpyHeader parse_npy_header(const std::string& text, const std::string& what,
                           const std::string& path) {
  return HeaderParser(text, what, path).parse();
}

std::string format_npy_preamble(NpyType dtype, const std::vector<int64_t>& shape) {
  const std::string dict = std::string("{'descr': '") + npy_descr(dtype) +
                           "', 'fortran_order': False, 'shape': " + python_tuple(shape) + ", }";
  // Magic (6) + version (2) + length field (2 or 4), then dict, padding and '\n'.
  for (const int length_bytes : {2, 4}) {
    const size_t unpadded = 8 + static_cast<size_t>(length_bytes) + dict.size() + 1;
    const size_t padding = (kAlignment - unpadded % kAlignment) % kAlignment;
    const size_t header_len = dict.size() + padding + 1;
    if (length_bytes == 2 && header_len > 0xffff) continue;  // needs format 2.0
    std::string out = "\x93NUMPY";
    out += static_cast<char>(length_bytes == 2 ? 1 : 2);
    out += '\0';
    append_le(out, header_len, length_bytes);
    out += dict;
    out.append(padding, ' ');
    out += '\n';
    return out;
  }
  return {};  // unreachable: a 4-byte length always fits a header built from <= 64 dims
}

}  // namespace octet::data
