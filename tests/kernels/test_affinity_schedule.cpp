// kernels/affinity_schedule.hpp: every item handed out exactly once, whatever the threads do;
// each thread's own share first, in order; the others' leftovers from their backs.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <vector>

#include "kernels/affinity_schedule.hpp"

using octet::kernels::AffinitySchedule;

TEST(AffinitySchedule, OneThreadTakesItsShareInOrderThenTheOthersFromTheirBacks) {
  AffinitySchedule schedule(10, 3);  // shares [0, 3), [3, 6), [6, 10)
  std::vector<int64_t> order;
  for (int64_t item = 0; schedule.next(1, item);) order.push_back(item);
  EXPECT_EQ(order, (std::vector<int64_t>{3, 4, 5, 9, 8, 7, 6, 2, 1, 0}));
}

TEST(AffinitySchedule, SharesAreContiguousAndCoverEveryItem) {
  for (int64_t count : {0, 1, 2, 5, 17, 68}) {
    for (int shares : {1, 2, 3, 4}) {
      AffinitySchedule schedule(count, shares);
      std::vector<int> seen(static_cast<size_t>(count), 0);
      // Each thread first: exactly its own share, ascending and contiguous.
      for (int self = 0; self < shares; ++self) {
        AffinitySchedule own(count, shares);
        int64_t item = -1, previous = -1;
        int64_t taken = 0;
        while (own.next(self, item) && item >= count * self / shares && item < count * (self + 1) / shares) {
          if (previous >= 0) {
            EXPECT_EQ(item, previous + 1);
          }
          previous = item;
          ++taken;
        }
        EXPECT_EQ(taken, count * (self + 1) / shares - count * self / shares) << count << " items, share " << self;
      }
      for (int self = 0, turn = 0; turn < 4 * count + 4; ++turn, self = (self + 1) % shares) {
        int64_t item = -1;
        if (schedule.next(self, item)) ++seen[static_cast<size_t>(item)];
      }
      for (int64_t i = 0; i < count; ++i) EXPECT_EQ(seen[static_cast<size_t>(i)], 1) << "item " << i << " of " << count;
      int64_t item = -1;
      EXPECT_FALSE(schedule.next(0, item));
    }
  }
}

TEST(AffinitySchedule, ConcurrentThreadsTakeEveryItemOnce) {
  constexpr int64_t kCount = 20000;
  for (int threads : {2, 3, 4}) {
    for (int repeat = 0; repeat < 20; ++repeat) {
      AffinitySchedule schedule(kCount, threads);
      std::vector<std::atomic<int>> taken(kCount);
      for (auto& t : taken) t.store(0);
      std::atomic<int64_t> total{0};
      // Fewer threads than shares in some teams: the missing threads' shares are taken over.
      const int team = repeat % 2 ? threads : threads - 1;
#pragma omp parallel num_threads(team)
      {
        const int self = omp_get_thread_num();
        for (int64_t item = 0; schedule.next(self, item);) {
          taken[static_cast<size_t>(item)].fetch_add(1);
          total.fetch_add(1);
        }
      }
      EXPECT_EQ(total.load(), kCount);
      EXPECT_TRUE(std::all_of(taken.begin(), taken.end(), [](const std::atomic<int>& t) { return t.load() == 1; }))
          << threads << " shares, team of " << team;
    }
  }
}
