#include "test_helpers.hpp"

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <random>
#include <stdexcept>

#include "engine/data/data_error.hpp"

namespace octet::data::test {

TempDir::TempDir() {
  static std::atomic<unsigned> counter{0};
  std::random_device random;
  for (int attempt = 0; attempt < 100; ++attempt) {
    const std::string name = "octet_data_test_" + std::to_string(::getpid()) + "_" +
                             std::to_string(counter++) + "_" + std::to_string(random());
    dir_ = std::filesystem::temp_directory_path() / name;
    if (std::filesystem::create_directory(dir_)) return;
  }
  throw std::runtime_error("cannot create a temporary directory");
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::vector<std::string> TempDir::entries() const {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

void write_file(const std::string& path, const std::string& bytes) {
  // Replace rather than truncate: ext4 flushes truncated files to disk, which made the
  // thousands of rewrites in the corruption tests take seconds.
  std::error_code ignored;
  std::filesystem::remove(path, ignored);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::string read_file(const std::string& path) {
  // Sized read rather than istreambuf_iterator, which trips g++ 12's -Wnull-dereference.
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::string bytes(static_cast<size_t>(in.tellg()), '\0');
  in.seekg(0);
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!in) throw std::runtime_error("cannot read " + path);
  return bytes;
}

void write_gzip(const std::string& path, const std::string& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  if (file == nullptr) throw std::runtime_error("cannot gzopen " + path);
  const int written =
      bytes.empty() ? 0 : gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size()));
  const int closed = gzclose(file);
  if (written != static_cast<int>(bytes.size()) || closed != Z_OK) {
    throw std::runtime_error("cannot gzwrite " + path);
  }
}

std::string idx_bytes(const std::vector<uint32_t>& dims, const std::string& payload, uint8_t type) {
  std::string out = {'\0', '\0', static_cast<char>(type), static_cast<char>(dims.size())};
  for (uint32_t d : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((d >> shift) & 0xff);
  }
  return out + payload;
}

std::string npy_bytes(int major, const std::string& dict, const std::string& payload) {
  const size_t length_bytes = major == 1 ? 2 : 4;
  const size_t unpadded = 8 + length_bytes + dict.size() + 1;
  const size_t header_len = dict.size() + (64 - unpadded % 64) % 64 + 1;
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  for (size_t i = 0; i < length_bytes; ++i)
    out += static_cast<char>((header_len >> (8 * i)) & 0xff);
  out += dict;
  out.append(header_len - dict.size() - 1, ' ');
  out += '\n';
  return out + payload;
}

::testing::AssertionResult throws_data_error(const std::function<void()>& fn,
                                             const std::vector<std::string>& fragments) {
  try {
    fn();
  } catch (const DataError& e) {
    const std::string message = e.what();
    if (message.find('\n') != std::string::npos) {
      return ::testing::AssertionFailure() << "message spans lines: " << message;
    }
    for (const std::string& fragment : fragments) {
      if (message.find(fragment) == std::string::npos) {
        return ::testing::AssertionFailure() << "message lacks \"" << fragment << "\": " << message;
      }
    }
    return ::testing::AssertionSuccess() << message;
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "threw a non-DataError exception: " << e.what();
  }
  return ::testing::AssertionFailure() << "did not throw";
}

}  // namespace octet::data::test
