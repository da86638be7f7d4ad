#pragma once
// Hands out work items [0, count) to a team of threads so that each thread mostly gets the same
// items in every layer: the items are cut into one contiguous share per thread; a thread takes
// its own share front to back, then what is left of the others' from their backs. Consecutive
// layers of a network cut their columns (pixels) the same way, so a core mostly reads what it
// wrote itself a layer earlier, from its own L2, while a core slowed by another tenant of the
// host still has its remaining items taken over (as a plain dynamic schedule would). Which
// thread runs an item never changes its result: every item is computed whole by one thread.
#include <atomic>
#include <cstdint>
#include <memory>

namespace octet::kernels {

class AffinitySchedule {
 public:
  AffinitySchedule(int64_t count, int shares) : shares_(shares < 1 ? 1 : shares), share_(new Share[static_cast<size_t>(shares_)]) {
    for (int s = 0; s < shares_; ++s) {
      const uint64_t front = static_cast<uint64_t>(count * s / shares_), back = static_cast<uint64_t>(count * (s + 1) / shares_);
      share_[s].bounds.store(front | (back << 32), std::memory_order_relaxed);
    }
  }

  // The next item for thread `self` (0 <= self < shares), or false when none is left.
  bool next(int self, int64_t& item) {
    if (take(share_[self], true, item)) return true;
    for (int step = 1; step < shares_; ++step)
      if (take(share_[(self + step) % shares_], false, item)) return true;
    return false;
  }

 private:
  // front in the low 32 bits, back (one past the last item left) in the high 32.
  struct alignas(64) Share {
    std::atomic<uint64_t> bounds{0};
  };

  static bool take(Share& share, bool from_front, int64_t& item) {
    uint64_t bounds = share.bounds.load(std::memory_order_relaxed);
    for (;;) {
      const uint64_t front = bounds & 0xffffffffu, back = bounds >> 32;
      if (front >= back) return false;
      const uint64_t claimed = from_front ? (front + 1) | (back << 32) : front | ((back - 1) << 32);
      if (share.bounds.compare_exchange_weak(bounds, claimed, std::memory_order_relaxed)) {
        item = static_cast<int64_t>(from_front ? front : back - 1);
        return true;
      }
    }
  }

  int shares_;
  std::unique_ptr<Share[]> share_;
};

}  // namespace octet::kernels
