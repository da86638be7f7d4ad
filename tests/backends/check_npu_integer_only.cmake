# ctest script: the NPU kernel sources (backends/npu_emu/*kernel*) name no floating-point type
# or function once comments are removed. Together with the -mgeneral-regs-only build of
# npu_kernels.cpp (a float there does not compile) this keeps the NPU datapath integer-only
# between the input QuantizeLinear and the output DequantizeLinear, which run on the host.
# Usage: cmake -DDIR=<backends/npu_emu> -P check_npu_integer_only.cmake
file(GLOB sources ${DIR}/*kernel*)
list(LENGTH sources count)
if(count LESS 3)
  message(FATAL_ERROR "expected the NPU kernel sources in ${DIR}, found ${count}")
endif()
set(bad "")
foreach(source ${sources})
  file(READ ${source} text)
  string(REGEX REPLACE "/\\*([^*]|\\*+[^*/])*\\*+/" "" text "${text}")  # block comments
  string(REGEX REPLACE "//[^\n]*" "" text "${text}")                     # line comments
  string(REGEX MATCHALL "(^|[^A-Za-z0-9_])(float|double|_Float16|__fp16|__bf16|cmath|math\\.h|round|lround|llround|nearbyint|ldexp|frexp|exp|log|sqrt)[^A-Za-z0-9_]" hits "${text}")
  if(hits)
    get_filename_component(name ${source} NAME)
    string(REGEX REPLACE "[^A-Za-z0-9_.;]" "" hits "${hits}")
    set(bad "${bad} ${name}: ${hits};")
  endif()
endforeach()
if(bad)
  message(FATAL_ERROR "floating point in the NPU kernels:${bad}")
endif()
message(STATUS "${count} NPU kernel sources, no floating-point type or function")
