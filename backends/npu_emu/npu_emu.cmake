# npu_emu: the emulated per-tensor-only NPU, part of octet_backends (included from
# backends/CMakeLists.txt).

# The documented default config, compiled in: default_npu.json is the single source.
set(OCTET_NPU_DIR ${CMAKE_CURRENT_LIST_DIR})
file(READ ${OCTET_NPU_DIR}/default_npu.json OCTET_NPU_DEFAULT_JSON)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${OCTET_NPU_DIR}/default_npu.json)
configure_file(${OCTET_NPU_DIR}/default_npu_config.cpp.in ${CMAKE_CURRENT_BINARY_DIR}/npu_emu/default_npu_config.cpp @ONLY)

target_sources(octet_backends PRIVATE
  ${OCTET_NPU_DIR}/npu_backend.cpp
  ${OCTET_NPU_DIR}/npu_config.cpp
  ${OCTET_NPU_DIR}/npu_constraints.cpp
  ${OCTET_NPU_DIR}/npu_kernels.cpp
  ${OCTET_NPU_DIR}/npu_perf.cpp
  ${CMAKE_CURRENT_BINARY_DIR}/npu_emu/default_npu_config.cpp)
find_package(nlohmann_json REQUIRED)
target_link_libraries(octet_backends PRIVATE nlohmann_json::nlohmann_json)

# Integer-only datapath by construction: the NPU's kernels are compiled without access to any
# floating-point register (x86: no SSE/x87; AArch64: no FP/SIMD), so a float or double in them
# is a compile error, not a review finding. tests/backends/CMakeLists.txt checks both that the
# flag rejects floating point and that the kernel sources name no float type.
include(CheckCXXCompilerFlag)
check_cxx_compiler_flag(-mgeneral-regs-only OCTET_HAVE_GENERAL_REGS_ONLY)
if(OCTET_HAVE_GENERAL_REGS_ONLY)
  set_source_files_properties(${OCTET_NPU_DIR}/npu_kernels.cpp PROPERTIES COMPILE_OPTIONS "-mgeneral-regs-only")
endif()
