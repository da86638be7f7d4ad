#include "tools/octet/sample_pool.hpp"

#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace octet::cli {

void for_each_sample(size_t count, int threads, const std::function<SampleWorker()>& make_worker) {
  std::atomic<size_t> next{0};
  std::mutex mutex;
  std::exception_ptr failure;
  auto run = [&]() {
    try {
      const SampleWorker worker = make_worker();
      for (size_t i; (i = next.fetch_add(1)) < count;) worker(i);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex);
      if (!failure) failure = std::current_exception();
      next = count;
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(run);
  run();
  for (auto& thread : pool) thread.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace octet::cli
