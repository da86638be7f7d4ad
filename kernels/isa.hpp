#pragma once
// Instruction-set paths as a bitmask (ruy's idea): the CPU's features are detected at run time,
// OCTET_ISA=ref|avx2|avx512-vnni|neon|neon-dot restricts the choice (tests use it to run every path the
// machine has), and the most capable available path wins.
#include <cstdint>
#include <string>

namespace octet::kernels {

enum class Isa : uint32_t {
  ref = 0,           // portable scalar reference: always available
  avx2 = 1u << 0,    // x86-64 AVX2 (+FMA)
  neon = 1u << 1,    // AArch64 Advanced SIMD
  neon_dot = 1u << 2, // AArch64 SDOT (ARMv8.2 dot product)
  avx512_vnni = 1u << 3  // x86 AVX-512 F/BW/VL + VNNI: 512-bit vpdpbusd tiles
};

// Paths this build and this CPU both support (always includes ref).
uint32_t available_isas();
// The path kernels use: the best available one, or the one OCTET_ISA names (an unknown or
// unavailable name throws octet-style std::runtime_error naming it and the available ones).
Isa active_isa();
const char* isa_name(Isa isa);
// Re-reads OCTET_ISA and OCTET_CORE_LOADS (tests switch paths within one process).
void reset_active_isa();

// How many loads this core issues per cycle, as the VNNI tiles' choice needs it (a tuning fact,
// not a path: kernels that issue about one load per vpdpbusd are bound by loads on two-port
// cores):
//  - two: Ice Lake and the other AVX-512-VNNI cores before Golden Cove;
//  - three: Intel's Golden Cove and later (Sapphire Rapids, Alder Lake's P cores), recognised by
//    AVX-VNNI, which arrived with them;
//  - four_narrow: AMD Zen 5 (family 1Ah), four loads of up to 256 bits per cycle (two of 512):
//    the channel-lane tiles' 4-byte broadcasts never wait there.
// OCTET_CORE_LOADS=two|three|four-narrow forces one (an unknown name throws, naming the
// known ones); tests use it to run every tile shape on any machine.
enum class CoreLoads { two, three, four_narrow };
CoreLoads cpu_core_loads();
// Whether 512-bit floating point leaves the core's clock alone: AMD's AVX-512 cores (Zen 4 and
// later) have no AVX-512 frequency licence; Intel's drop their clock after a stretch of it, and
// every instruction after pays. A tuning fact: elementwise float loops go 16 lanes wide only
// where this holds (resnet50's residual Adds 0.55-0.67x of their 8-lane time on Zen 5; on
// Sapphire Rapids the convolutions around them slowed ~7%).
bool cpu_keeps_clock_under_512_bit_float();

}  // namespace octet::kernels
