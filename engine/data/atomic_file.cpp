#include "engine/data/atomic_file.hpp"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>

#include "engine/data/data_error.hpp"

namespace octet::data {

namespace {

std::string temp_name_for(const std::string& path) {
  // Random plus a process-wide counter: unique across concurrent writers and processes.
  static std::atomic<unsigned> counter{0};
  static const unsigned seed = std::random_device{}();
  const unsigned tag = seed ^ (counter.fetch_add(1) * 2654435761u);
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "%08x", tag);
  return path + ".tmp-" + suffix;
}

std::string errno_text(const char* action) {
  return std::string(action) + ": " + (errno != 0 ? std::strerror(errno) : "unknown error");
}

}  // namespace

void write_file_atomic(const std::string& what, const std::string& path,
                       const std::vector<ByteSpan>& parts) {
  std::string temp;
  std::FILE* file = nullptr;
  for (int attempt = 0; attempt < 16 && file == nullptr; ++attempt) {
    temp = temp_name_for(path);
    errno = 0;
    // "x" (exclusive create) so we never clobber someone else's file that happens to match.
    file = std::fopen(temp.c_str(), "wbx");
    if (file == nullptr && errno != EEXIST) break;
  }
  if (file == nullptr) throw file_error(what, path, errno_text("cannot create temporary file"));

  std::string problem;
  for (const ByteSpan& part : parts) {
    if (part.size == 0) continue;
    errno = 0;
    if (std::fwrite(part.data, 1, part.size, file) != part.size) {
      problem = errno_text("write failed");
      break;
    }
  }
  errno = 0;
  if (problem.empty() && std::fflush(file) != 0) problem = errno_text("write failed");
  // fsync before rename: otherwise a crash could leave the new name pointing at missing data.
  errno = 0;
  if (problem.empty() && ::fsync(fileno(file)) != 0) problem = errno_text("fsync failed");
  errno = 0;
  if (std::fclose(file) != 0 && problem.empty()) problem = errno_text("close failed");
  errno = 0;
  if (problem.empty() && std::rename(temp.c_str(), path.c_str()) != 0) {
    problem = errno_text("cannot rename temporary file into place");
  }
  if (!problem.empty()) {
    std::remove(temp.c_str());
    throw file_error(what, path, problem);
  }
}

}  // namespace octet::data
