#include "engine/memory_plan.hpp"

#include <algorithm>
#include <numeric>

namespace octet {
namespace {

constexpr size_t kAlign = 64;

size_t align_up(size_t value) { return (value + kAlign - 1) / kAlign * kAlign; }

bool lifetimes_overlap(const BufferRequest& a, const BufferRequest& b) {
  return a.first_step <= b.last_step && b.first_step <= a.last_step;
}

}  // namespace

MemoryPlan plan_memory(const std::vector<BufferRequest>& requests) {
  MemoryPlan plan;
  plan.offsets.assign(requests.size(), 0);
  std::vector<size_t> order(requests.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return requests[a].bytes > requests[b].bytes; });
  std::vector<size_t> placed;
  for (size_t index : order) {
    const size_t size = align_up(std::max<size_t>(requests[index].bytes, 1));
    // Occupied intervals of already placed buffers alive at the same time, by offset.
    std::vector<std::pair<size_t, size_t>> busy;
    for (size_t other : placed)
      if (lifetimes_overlap(requests[index], requests[other]))
        busy.emplace_back(plan.offsets[other], plan.offsets[other] + align_up(std::max<size_t>(requests[other].bytes, 1)));
    std::sort(busy.begin(), busy.end());
    // Smallest gap that fits; otherwise after the last busy interval.
    size_t best = SIZE_MAX, best_gap = SIZE_MAX, cursor = 0;
    for (const auto& interval : busy) {
      if (interval.first >= cursor + size && interval.first - cursor < best_gap) {
        best = cursor;
        best_gap = interval.first - cursor;
      }
      cursor = std::max(cursor, interval.second);
    }
    if (best == SIZE_MAX) best = cursor;
    plan.offsets[index] = best;
    plan.arena_bytes = std::max(plan.arena_bytes, best + size);
    placed.push_back(index);
  }
  return plan;
}

}  // namespace octet
