#pragma once
// Sequential reading of a whole file, transparently gunzipping it when it starts with the gzip
// magic bytes (content decides, not the file name). Internal to octet_data.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

struct gzFile_s;  // zlib's handle type; declared here so users of this header need no zlib.h

namespace octet::data {

class ByteReader {
 public:
  enum class Gzip { detect, never };

  // `what` describes the file in messages ("fashion-mnist test images", "npy file").
  ByteReader(std::string what, std::string path, Gzip gzip);
  ~ByteReader();  // out of line: closes the zlib handle
  ByteReader(const ByteReader&) = delete;
  ByteReader& operator=(const ByteReader&) = delete;

  bool compressed() const { return gz_ != nullptr; }

  // Up to n bytes; fewer only at the end of the data. I/O errors and corrupt gzip data throw
  // DataError. A gzip stream that is cut short ends the data early like a short plain file, so
  // the caller can report what its format expected; truncation_note() then says why.
  size_t read(void* buffer, size_t n);

  // " (gzip stream is cut short)" once a truncated gzip stream was met, else "".
  std::string truncation_note() const;

  // Up to n bytes, growing the vector as data actually arrives, so a forged size in a header
  // cannot make us allocate gigabytes for a tiny file.
  std::vector<uint8_t> read_up_to(size_t n);

  // Consumes the rest of the data and returns its length (for "trailing data" messages).
  // Throws if the gzip stream turns out to be cut short: complete-looking data without its
  // checksum trailer is still a damaged file.
  uint64_t count_remaining();

  [[noreturn]] void fail(const std::string& problem) const;

 private:
  size_t read_plain(uint8_t* buffer, size_t n);
  size_t read_gzip(uint8_t* buffer, size_t n);

  std::string what_;
  std::string path_;
  struct CloseFile {
    void operator()(std::FILE* f) const;
  };
  struct CloseGzip {
    void operator()(gzFile_s* f) const;
  };
  // Owned through unique_ptr so a constructor that throws half-way still closes what it opened.
  std::unique_ptr<std::FILE, CloseFile> file_;
  std::unique_ptr<gzFile_s, CloseGzip> gz_;
  // Bytes consumed while sniffing for the gzip magic that still belong to the plain data.
  uint8_t peeked_[2] = {0, 0};
  size_t peeked_count_ = 0;
  size_t peeked_pos_ = 0;
  bool gzip_truncated_ = false;
};

}  // namespace octet::data
