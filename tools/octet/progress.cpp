#include "tools/octet/progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace octet::cli {

Progress::Progress(std::string task, size_t total, bool enabled)
    : task_(std::move(task)), total_(total), enabled_(enabled), tty_(isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()), last_(start_) {}

void Progress::update(size_t done, const std::string& detail) {
  if (!enabled_ || total_ == 0) return;
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  if (tty_) {
    if (now - last_ < std::chrono::milliseconds(200) && done < total_) return;
    last_ = now;
    printed_ = true;
    std::fprintf(stderr, "\r%s: %zu/%zu (%.0f%%) %.1fs %s\033[K", task_.c_str(), done, total_,
                 100.0 * static_cast<double>(done) / static_cast<double>(total_), elapsed, detail.c_str());
  } else if (elapsed >= kQuietSeconds && done * 10 >= next_decile_ * total_) {
    printed_ = true;
    while (done * 10 >= next_decile_ * total_) ++next_decile_;
    std::fprintf(stderr, "%s: %zu/%zu (%.0f%%) %.1fs %s\n", task_.c_str(), done, total_,
                 100.0 * static_cast<double>(done) / static_cast<double>(total_), elapsed, detail.c_str());
  }
  std::fflush(stderr);
}

void Progress::finish(const std::string& detail) {
  if (!enabled_) return;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (!tty_ && !printed_ && elapsed < kQuietSeconds) return;  // short work needs no report
  if (tty_) std::fprintf(stderr, "\r\033[K");
  std::fprintf(stderr, "%s: done, %zu in %.1fs %s\n", task_.c_str(), total_, elapsed, detail.c_str());
  std::fflush(stderr);
}

}  // namespace octet::cli
