#include "kernels/isa.hpp"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include <cstdlib>
#include <mutex>
#include <stdexcept>

#if defined(__aarch64__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

namespace octet::kernels {
namespace {

uint32_t detect() {
  uint32_t isas = 0;
#if defined(__x86_64__) && defined(OCTET_HAVE_AVX2)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    isas |= static_cast<uint32_t>(Isa::avx2);
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni"))
      isas |= static_cast<uint32_t>(Isa::avx512_vnni);
  }
#endif
#if defined(__aarch64__)
  isas |= static_cast<uint32_t>(Isa::neon);
#if defined(__linux__) && defined(HWCAP_ASIMDDP) && defined(OCTET_HAVE_NEON_DOT)
  if (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) isas |= static_cast<uint32_t>(Isa::neon_dot);
#endif
#endif
  return isas;
}

Isa best(uint32_t isas) {
  for (Isa isa : {Isa::neon_dot, Isa::neon, Isa::avx512_vnni, Isa::avx2})
    if (isas & static_cast<uint32_t>(isa)) return isa;
  return Isa::ref;
}

std::mutex mutex;
bool resolved = false;
Isa active = Isa::ref;

Isa resolve() {
  const uint32_t isas = available_isas();
  const char* forced = std::getenv("OCTET_ISA");
  if (!forced || !*forced) return best(isas);
  const std::string name = forced;
  for (Isa isa : {Isa::ref, Isa::avx2, Isa::avx512_vnni, Isa::neon, Isa::neon_dot}) {
    if (name != isa_name(isa)) continue;
    if (isa != Isa::ref && !(isas & static_cast<uint32_t>(isa)))
      throw std::runtime_error("OCTET_ISA=" + name + " is not available on this CPU or build (best: " +
                               isa_name(best(isas)) + ")");
    return isa;
  }
  throw std::runtime_error("OCTET_ISA=" + name + " is unknown (ref, avx2, avx512-vnni, neon, neon-dot)");
}

CoreLoads detect_core_loads() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  // Family = base family + extended family (CPUID leaf 1, EAX bits 8-11 and 20-27).
  const unsigned family = __get_cpuid(1, &eax, &ebx, &ecx, &edx) ? ((eax >> 8) & 0xF) + ((eax >> 20) & 0xFF) : 0;
  if (__builtin_cpu_is("amd") && family == 0x1A) return CoreLoads::four_narrow;
  return __builtin_cpu_supports("avxvnni") != 0 ? CoreLoads::three : CoreLoads::two;
#else
  return CoreLoads::two;
#endif
}

const char* core_loads_name(CoreLoads loads) {
  switch (loads) {
    case CoreLoads::two: return "two";
    case CoreLoads::three: return "three";
    case CoreLoads::four_narrow: return "four-narrow";
  }
  return "?";
}

CoreLoads resolve_core_loads() {
  const char* forced = std::getenv("OCTET_CORE_LOADS");
  if (!forced || !*forced) return detect_core_loads();
  for (CoreLoads loads : {CoreLoads::two, CoreLoads::three, CoreLoads::four_narrow})
    if (std::string(forced) == core_loads_name(loads)) return loads;
  throw std::runtime_error(std::string("OCTET_CORE_LOADS=") + forced + " is unknown (two, three, four-narrow)");
}

bool core_loads_resolved = false;
CoreLoads core_loads = CoreLoads::two;

}  // namespace

CoreLoads cpu_core_loads() {
  std::lock_guard<std::mutex> lock(mutex);
  if (!core_loads_resolved) {
    core_loads = resolve_core_loads();
    core_loads_resolved = true;
  }
  return core_loads;
}

uint32_t available_isas() {
  static const uint32_t isas = detect();
  return isas;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::ref: return "ref";
    case Isa::avx2: return "avx2";
    case Isa::avx512_vnni: return "avx512-vnni";
    case Isa::neon: return "neon";
    case Isa::neon_dot: return "neon-dot";
  }
  return "?";
}

Isa active_isa() {
  std::lock_guard<std::mutex> lock(mutex);
  if (!resolved) {
    active = resolve();
    resolved = true;
  }
  return active;
}

void reset_active_isa() {
  std::lock_guard<std::mutex> lock(mutex);
  resolved = false;
  core_loads_resolved = false;
}

bool cpu_keeps_clock_under_512_bit_float() {
#if defined(__x86_64__)
  static const bool keeps = [] {
    __builtin_cpu_init();
    return __builtin_cpu_is("amd") && __builtin_cpu_supports("avx512f");
  }();
  return keeps;
#else
  return false;
#endif
}

}  // namespace octet::kernels
