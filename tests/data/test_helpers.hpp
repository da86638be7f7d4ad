#pragma once
// Shared fixtures for the octet_data tests: a self-cleaning temp directory and builders for
// the byte formats under test, so every test creates its own input files.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace octet::data::test {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& dir() const { return dir_; }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  // Names of the directory's entries, sorted; used to prove no temporary files are left.
  std::vector<std::string> entries() const;

 private:
  std::filesystem::path dir_;
};

void write_file(const std::string& path, const std::string& bytes);
std::string read_file(const std::string& path);
// Compresses with zlib's gzopen/gzwrite, like the real MNIST distribution files.
void write_gzip(const std::string& path, const std::string& bytes);

// An IDX file: magic 00 00 <type> <rank>, big-endian uint32 dims, then `payload`.
std::string idx_bytes(const std::vector<uint32_t>& dims, const std::string& payload,
                      uint8_t type = 0x08);

// A hand-built .npy file with format version major.0 around the literal `dict` text, padded
// with spaces and '\n' like NumPy does.
std::string npy_bytes(int major, const std::string& dict, const std::string& payload);

// Raw little-endian bytes of a vector of trivially copyable values.
template <typename T>
std::string raw_bytes(const std::vector<T>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

// Passes if fn throws octet::data::DataError whose one-line message contains every fragment.
::testing::AssertionResult throws_data_error(const std::function<void()>& fn,
                                             const std::vector<std::string>& fragments = {});

}  // namespace octet::data::test
