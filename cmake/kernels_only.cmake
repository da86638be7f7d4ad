# OCTET_KERNELS_ONLY: octet_kernels and its SIMD tests, nothing else (no graph, FlatBuffers,
# ONNX, oneDNN...), for cross builds such as cmake/toolchain-aarch64.cmake. GoogleTest is built
# from Debian's source tree with the cross compiler.
add_subdirectory(kernels)

set(BUILD_GMOCK OFF CACHE BOOL "" FORCE)
set(INSTALL_GTEST OFF CACHE BOOL "" FORCE)
add_subdirectory(/usr/src/googletest ${CMAKE_BINARY_DIR}/googletest EXCLUDE_FROM_ALL)

enable_testing()
add_executable(test_neon_kernels tests/kernels/test_qconv_neon.cpp)
target_link_libraries(test_neon_kernels PRIVATE octet_kernels gtest_main octet_warnings)
add_test(NAME test_neon_kernels COMMAND test_neon_kernels)  # through CMAKE_CROSSCOMPILING_EMULATOR
