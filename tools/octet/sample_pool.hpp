#pragma once
// The thread pool every dataset evaluation uses: samples are handed out one at a time from a
// shared counter, each thread owning its sessions and buffers.
#include <cstddef>
#include <functional>

namespace octet::cli {

using SampleWorker = std::function<void(size_t index)>;

// Runs samples 0..count-1 on `threads` threads (the calling thread is one of them). Each thread
// calls make_worker() once, to build what it owns, then the returned worker for every index it
// takes. make_worker() and the workers run concurrently: shared state needs the caller's lock.
// The first exception stops the handing out and is rethrown once every thread has joined.
void for_each_sample(size_t count, int threads, const std::function<SampleWorker()>& make_worker);

}  // namespace octet::cli
