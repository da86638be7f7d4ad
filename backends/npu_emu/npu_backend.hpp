#pragma once
// The emulated per-tensor-only NPU as a Backend (DESIGN.md §3): it claims the nodes its config
// accepts (npu_constraints.hpp says which and why not) and runs them on integer-only kernels
// (npu_kernels.hpp); the executor gives everything else to the host CPU backend.
#include <memory>

#include "backends/backend.hpp"
#include "backends/npu_emu/npu_config.hpp"

namespace octet {

std::unique_ptr<Backend> make_npu_backend(npu::NpuConfig config);

}  // namespace octet
