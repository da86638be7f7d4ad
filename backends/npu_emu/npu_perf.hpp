#pragma once
// The NPU's performance model: estimated cycles, latency, DRAM traffic and SRAM peak of the
// layers the NPU runs (host layers are not modelled: their time is the host's).
//
// Per NPU layer L:
//   ops(L)      MACs for QConv (output elements x in_channels/group x kh x kw) and QGemm
//               (M x N x K); one op per window tap for MaxPool/QAveragePool (output elements x
//               kh x kw), per input element for QGlobalAveragePool, per output element for
//               QAdd; 0 for Flatten/Reshape (a move inside SRAM).
//   compute(L)  = ceil(ops / macs_per_cycle)
//   dram(L)     = weight bytes (int8 weights + int32 bias, read once per inference)
//               + each activation input read from DRAM + the output written to DRAM (rule below)
//   memory(L)   = ceil(dram / dram_bytes_per_cycle)
//   cycles(L)   = max(compute, memory) + layer_overhead_cycles
//   latency(L)  = cycles / (clock_mhz * 1000) milliseconds
// Totals are sums over the NPU layers; sram_peak is the largest sram(L).
//
// Where activations live (the DRAM rule). A tensor an NPU layer produces stays in SRAM from its
// producer to its last NPU consumer. sram(L) = L's weight bytes + L's inputs that come from the
// host (staged in SRAM) + every NPU-produced tensor live at L (L's output included). L fits when
// sram(L) <= sram_bytes. Then:
//   - an input is read from DRAM if the host produced it (or it is a graph input), if L does
//     not fit, or if its producer did not fit (it went to DRAM);
//   - the output is written to DRAM if the host or a graph output consumes it, if L does not
//     fit, or if one of its NPU consumers does not fit.
// A layer that does not fit streams through SRAM and counts min(sram(L), sram_bytes) there.
#include <cstdint>
#include <string>
#include <vector>

#include "backends/npu_emu/npu_config.hpp"
#include "graph/graph.hpp"

namespace octet::npu {

struct LayerEstimate {
  size_t node_index = 0;
  std::string node;  // "QConv 'conv1'"
  int64_t macs = 0;  // QConv/QGemm only
  int64_t ops = 0;
  int64_t weight_bytes = 0;
  int64_t input_dram_bytes = 0;
  int64_t output_dram_bytes = 0;
  int64_t dram_bytes = 0;
  int64_t sram_bytes = 0;
  bool fits = true;
  int64_t compute_cycles = 0;
  int64_t memory_cycles = 0;
  int64_t cycles = 0;
  double latency_ms = 0.0;
};

struct NpuEstimate {
  std::vector<LayerEstimate> layers;  // NPU layers in execution order
  int64_t macs = 0;
  int64_t cycles = 0;
  double latency_ms = 0.0;
  int64_t dram_bytes = 0;
  int64_t sram_peak_bytes = 0;
};

// `on_npu[i]` says whether graph.nodes[i] runs on the NPU (the compiled plan's partition).
NpuEstimate estimate_npu(const Graph& graph, const std::vector<bool>& on_npu,
                         const Performance& performance);

}  // namespace octet::npu
