#include "engine/data/byte_reader.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "engine/data/data_error.hpp"

namespace octet::data {

namespace {

constexpr uint8_t kGzipMagic0 = 0x1f;
constexpr uint8_t kGzipMagic1 = 0x8b;
// gzread counts in unsigned/int; stay far below INT_MAX per call.
constexpr size_t kMaxGzipChunk = size_t{1} << 30;
constexpr size_t kFirstChunk = size_t{1} << 20;

}  // namespace

ByteReader::ByteReader(std::string what, std::string path, Gzip gzip)
    : what_(std::move(what)), path_(std::move(path)) {
  errno = 0;
  file_.reset(std::fopen(path_.c_str(), "rb"));
  if (!file_) fail(std::string("cannot open: ") + std::strerror(errno));

  peeked_count_ = read_plain(peeked_, sizeof peeked_);
  const bool is_gzip = peeked_count_ == 2 && peeked_[0] == kGzipMagic0 && peeked_[1] == kGzipMagic1;
  if (!is_gzip || gzip == Gzip::never) {
    peeked_pos_ = 0;
    return;
  }

  file_.reset();
  errno = 0;
  gz_.reset(gzopen(path_.c_str(), "rb"));
  if (!gz_) {
    fail(std::string("cannot open gzip stream: ") +
         (errno != 0 ? std::strerror(errno) : "out of memory"));
  }
  gzbuffer(gz_.get(), 1u << 17);  // the default 8 KiB makes large files needlessly slow
}

ByteReader::~ByteReader() = default;

void ByteReader::CloseFile::operator()(std::FILE* f) const {
  std::fclose(f);
}
void ByteReader::CloseGzip::operator()(gzFile_s* f) const {
  gzclose(f);
}

void ByteReader::fail(const std::string& problem) const {
  throw file_error(what_, path_, problem);
}

size_t ByteReader::read(void* buffer, size_t n) {
  auto* out = static_cast<uint8_t*>(buffer);
  if (gz_) return read_gzip(out, n);

  size_t done = 0;
  while (done < n && peeked_pos_ < peeked_count_) out[done++] = peeked_[peeked_pos_++];
  return done + read_plain(out + done, n - done);
}

size_t ByteReader::read_plain(uint8_t* buffer, size_t n) {
  if (n == 0) return 0;
  errno = 0;
  const size_t got = std::fread(buffer, 1, n, file_.get());
  if (got < n && std::ferror(file_.get())) {
    fail(std::string("read error: ") + (errno != 0 ? std::strerror(errno) : "unknown error"));
  }
  return got;
}

size_t ByteReader::read_gzip(uint8_t* buffer, size_t n) {
  size_t done = 0;
  while (done < n) {
    const size_t want = std::min(n - done, kMaxGzipChunk);
    const int got = gzread(gz_.get(), buffer + done, static_cast<unsigned>(want));
    int err = Z_OK;
    const char* message = gzerror(gz_.get(), &err);
    // zlib reports a stream cut short as Z_BUF_ERROR along with the bytes it could still inflate.
    if (got >= 0 && err == Z_BUF_ERROR) {
      gzip_truncated_ = true;
      done += static_cast<size_t>(got);
      break;
    }
    if (got < 0 || err != Z_OK) {
      if (err == Z_ERRNO) fail(std::string("read error: ") + std::strerror(errno));
      fail(std::string("corrupt gzip data: ") + (message != nullptr ? message : "unknown error"));
    }
    done += static_cast<size_t>(got);
    if (static_cast<size_t>(got) < want) break;  // clean end of the decompressed data
  }
  return done;
}

std::vector<uint8_t> ByteReader::read_up_to(size_t n) {
  std::vector<uint8_t> out;
  while (out.size() < n) {
    const size_t old_size = out.size();
    // Double per round: amortised linear cost, and never more than 2x what really arrived.
    const size_t want = std::min(n - old_size, std::max(old_size, kFirstChunk));
    out.reserve(old_size + want);
    out.resize(old_size + want);
    const size_t got = read(out.data() + old_size, want);
    out.resize(old_size + got);
    if (got < want) break;
  }
  if (out.capacity() > out.size() + out.size() / 8) out.shrink_to_fit();
  return out;
}

std::string ByteReader::truncation_note() const {
  return gzip_truncated_ ? " (gzip stream is cut short)" : "";
}

uint64_t ByteReader::count_remaining() {
  uint8_t scratch[1 << 16];
  uint64_t total = 0;
  for (;;) {
    const size_t got = read(scratch, sizeof scratch);
    total += got;
    if (got < sizeof scratch) break;
  }
  if (gzip_truncated_) fail("truncated: gzip stream is cut short");
  return total;
}

}  // namespace octet::data
