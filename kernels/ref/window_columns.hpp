#pragma once
// Output columns ox whose input column ox * stride + offset lies inside [0, in_size): inner
// loops over [begin, end) then need no bounds test (and vectorize); the columns outside read
// padding. Shared by the convolution kernels of every path.
#include <algorithm>
#include <cstdint>

namespace octet::kernels {

inline void valid_output_columns(int64_t out_size, int64_t stride, int64_t offset, int64_t in_size, int64_t& begin,
                                 int64_t& end) {
  begin = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  end = in_size - offset <= 0 ? 0 : (in_size - offset - 1) / stride + 1;
  begin = std::min(begin, out_size);
  end = std::max(begin, std::min(end, out_size));
}

}  // namespace octet::kernels
