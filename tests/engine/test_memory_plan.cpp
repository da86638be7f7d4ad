// plan_memory: buffers alive at the same time never share bytes, offsets are aligned, the arena
// is no larger than giving every buffer its own bytes, and buffers are actually reused.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "engine/memory_plan.hpp"

namespace octet {
namespace {

constexpr size_t kAlign = 64;

size_t aligned(size_t bytes) { return (std::max<size_t>(bytes, 1) + kAlign - 1) / kAlign * kAlign; }

bool lifetimes_overlap(const BufferRequest& a, const BufferRequest& b) {
  return a.first_step <= b.last_step && b.first_step <= a.last_step;
}

// Every property a valid plan must have.
void check_plan(const std::vector<BufferRequest>& requests, const MemoryPlan& plan, const std::string& what) {
  ASSERT_EQ(plan.offsets.size(), requests.size()) << what;
  size_t sum_aligned = 0, end = 0;
  for (size_t i = 0; i < requests.size(); ++i) {
    EXPECT_EQ(plan.offsets[i] % kAlign, 0u) << what << " request " << i;
    sum_aligned += aligned(requests[i].bytes);
    end = std::max(end, plan.offsets[i] + requests[i].bytes);
  }
  EXPECT_LE(end, plan.arena_bytes) << what << ": a buffer extends past the arena";
  EXPECT_LE(plan.arena_bytes, sum_aligned) << what << ": worse than no reuse at all";
  // Exhaustive pairwise check.
  for (size_t i = 0; i < requests.size(); ++i)
    for (size_t j = i + 1; j < requests.size(); ++j) {
      if (!lifetimes_overlap(requests[i], requests[j])) continue;
      const size_t a0 = plan.offsets[i], a1 = a0 + std::max<size_t>(requests[i].bytes, 1);
      const size_t b0 = plan.offsets[j], b1 = b0 + std::max<size_t>(requests[j].bytes, 1);
      EXPECT_TRUE(a1 <= b0 || b1 <= a0)
          << what << ": requests " << i << " [" << requests[i].first_step << "," << requests[i].last_step << "] bytes "
          << requests[i].bytes << " at " << a0 << " and " << j << " [" << requests[j].first_step << ","
          << requests[j].last_step << "] bytes " << requests[j].bytes << " at " << b0 << " overlap";
    }
  // Lower bound: at any step, all live buffers must fit side by side.
  int first = 0, last = 0;
  for (const auto& r : requests) {
    first = std::min(first, r.first_step);
    last = std::max(last, r.last_step);
  }
  for (int step = first; step <= last; ++step) {
    size_t live = 0;
    for (const auto& r : requests)
      if (r.first_step <= step && step <= r.last_step) live += std::max<size_t>(r.bytes, 1);
    EXPECT_GE(plan.arena_bytes, live) << what << " step " << step;
  }
}

TEST(MemoryPlan, EmptyRequestSet) {
  MemoryPlan plan = plan_memory({});
  EXPECT_TRUE(plan.offsets.empty());
  EXPECT_EQ(plan.arena_bytes, 0u);
}

TEST(MemoryPlan, SingleBuffer) {
  MemoryPlan plan = plan_memory({{100, 0, 3}});
  ASSERT_EQ(plan.offsets.size(), 1u);
  EXPECT_EQ(plan.offsets[0], 0u);
  EXPECT_GE(plan.arena_bytes, 100u);
  EXPECT_LE(plan.arena_bytes, aligned(100));
}

TEST(MemoryPlan, RandomRequestSetsNeverOverlap) {
  std::mt19937 rng(77);
  auto pick = [&](int low, int high) { return std::uniform_int_distribution<int>(low, high)(rng); };
  for (int trial = 0; trial < 400; ++trial) {
    const int steps = pick(1, 30);
    const int count = pick(1, 40);
    std::vector<BufferRequest> requests;
    for (int i = 0; i < count; ++i) {
      const int first = pick(-1, steps - 1);
      const int last = pick(0, 3) == 0 ? steps : pick(first < 0 ? 0 : first, steps);  // some graph outputs
      size_t bytes;
      switch (pick(0, 3)) {
        case 0: bytes = static_cast<size_t>(pick(0, 70)); break;          // tiny, incl. 0
        case 1: bytes = static_cast<size_t>(pick(1, 8)) * 64; break;       // exact multiples
        default: bytes = static_cast<size_t>(pick(1, 100000)); break;
      }
      requests.push_back({bytes, first, last});
    }
    check_plan(requests, plan_memory(requests), "trial " + std::to_string(trial));
    if (HasFailure()) break;
  }
}

TEST(MemoryPlan, AllAliveAtOnceGetsNoReuse) {
  std::vector<BufferRequest> requests = {{64, 0, 5}, {128, 1, 5}, {100, 2, 5}, {1, 3, 5}};
  MemoryPlan plan = plan_memory(requests);
  check_plan(requests, plan, "all alive");
  EXPECT_EQ(plan.arena_bytes, 64u + 128u + 128u + 64u);
}

TEST(MemoryPlan, ChainReusesBuffers) {
  // A chain of 10 equal activations: value i is written by step i and read by step i+1.
  std::vector<BufferRequest> requests;
  for (int i = 0; i < 10; ++i) requests.push_back({4096, i, i + 1});
  MemoryPlan plan = plan_memory(requests);
  check_plan(requests, plan, "chain");
  // Two buffers ping-pong: the arena holds exactly two activations.
  EXPECT_EQ(plan.arena_bytes, 2u * 4096u);
  for (size_t i = 2; i < requests.size(); ++i) EXPECT_EQ(plan.offsets[i], plan.offsets[i - 2]) << i;
}

TEST(MemoryPlan, ChainOfDecreasingSizesReusesFreedSpace) {
  // A CNN-like chain where activations shrink: the total is far below the sum.
  std::vector<BufferRequest> requests;
  size_t sum = 0;
  for (int i = 0; i < 8; ++i) {
    const size_t bytes = static_cast<size_t>(65536 >> i) + 64u;
    requests.push_back({bytes, i - 1, i});
    sum += aligned(bytes);
  }
  MemoryPlan plan = plan_memory(requests);
  check_plan(requests, plan, "shrinking chain");
  // The two largest are alive together at step 0; everything after fits in the space they free.
  EXPECT_EQ(plan.arena_bytes, aligned(requests[0].bytes) + aligned(requests[1].bytes));
  EXPECT_LT(plan.arena_bytes, sum);
}

TEST(MemoryPlan, TouchingLifetimesDoNotShare) {
  // Step 3 reads the first buffer while writing the second: both are live at step 3.
  std::vector<BufferRequest> requests = {{256, 0, 3}, {256, 3, 5}};
  MemoryPlan plan = plan_memory(requests);
  check_plan(requests, plan, "touching");
  EXPECT_NE(plan.offsets[0], plan.offsets[1]);
  // Disjoint lifetimes do share.
  requests = {{256, 0, 2}, {256, 3, 5}};
  plan = plan_memory(requests);
  check_plan(requests, plan, "disjoint");
  EXPECT_EQ(plan.offsets[0], plan.offsets[1]);
  EXPECT_EQ(plan.arena_bytes, 256u);
}

TEST(MemoryPlan, SmallBufferFillsAGap) {
  // Placed by decreasing size: A at [0,2048), B at [2048,3072), C at [3072,3584). D lives with A
  // and C but not B, so it goes into B's bytes, the gap between A and C.
  std::vector<BufferRequest> requests = {
      {2048, 0, 10},  // A, long-lived
      {1024, 0, 1},   // B, freed early
      {512, 0, 10},   // C, long-lived
      {256, 5, 10},   // D
  };
  MemoryPlan plan = plan_memory(requests);
  check_plan(requests, plan, "gap");
  EXPECT_EQ(plan.offsets[3], plan.offsets[1]);
  EXPECT_EQ(plan.arena_bytes, 2048u + 1024u + 512u);
}

TEST(MemoryPlan, Deterministic) {
  std::mt19937 rng(3);
  std::vector<BufferRequest> requests;
  for (int i = 0; i < 30; ++i)
    requests.push_back({static_cast<size_t>(rng() % 5000), static_cast<int>(rng() % 10), static_cast<int>(10 + rng() % 5)});
  const MemoryPlan a = plan_memory(requests), b = plan_memory(requests);
  EXPECT_EQ(a.offsets, b.offsets);
  EXPECT_EQ(a.arena_bytes, b.arena_bytes);
}

}  // namespace
}  // namespace octet
