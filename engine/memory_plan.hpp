#pragma once
// Places every activation of a run into one arena so that values whose lifetimes do not overlap
// share bytes. Lifetimes are step indices: a value lives from the step that writes it to the
// last step that reads it.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace octet {

struct BufferRequest {
  size_t bytes;
  int first_step;  // -1 for graph inputs
  int last_step;   // the plan length for graph outputs
};

struct MemoryPlan {
  std::vector<size_t> offsets;  // one per request, 64-byte aligned
  size_t arena_bytes = 0;
};

// Greedy best-fit by decreasing size (the classic TFLite arena planner idea): deterministic
// and within a few percent of optimal on chain-like CNN graphs.
MemoryPlan plan_memory(const std::vector<BufferRequest>& requests);

}  // namespace octet
