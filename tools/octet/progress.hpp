#pragma once
// Progress of long CLI work on stderr: a live line on a terminal, a line every 10% otherwise
// (so CI logs stay short), and nothing for work that ends within two seconds. Silent when `enabled` is false.
#include <chrono>
#include <cstddef>
#include <string>

namespace octet::cli {

class Progress {
 public:
  Progress(std::string task, size_t total, bool enabled = true);
  // `detail` is appended to the line, e.g. "top1 0.9214".
  void update(size_t done, const std::string& detail = "");
  void finish(const std::string& detail = "");

 private:
  std::string task_;
  size_t total_;
  bool enabled_;
  bool tty_;
  // Without a terminal, work shorter than this prints nothing at all.
  static constexpr double kQuietSeconds = 2.0;
  size_t next_decile_ = 1;
  bool printed_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace octet::cli
