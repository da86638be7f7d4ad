#pragma once
// Whole-file writes that either fully succeed or leave no trace. Internal to octet_data.
#include <cstddef>
#include <string>
#include <vector>

namespace octet::data {

struct ByteSpan {
  const void* data;
  size_t size;
};

// Writes the concatenation of `parts` to `path`. The bytes go to a fresh sibling
// "<path>.tmp-XXXXXXXX" that is renamed over `path` only once complete, so readers never see
// a partial file; on any error the temporary is removed and DataError names `what` and `path`.
void write_file_atomic(const std::string& what, const std::string& path,
                       const std::vector<ByteSpan>& parts);

}  // namespace octet::data
