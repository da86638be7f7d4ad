// Compiled by ctest with the NPU kernels' flag: must be rejected (it uses a float).
int scaled(int x) {
  return static_cast<int>(static_cast<float>(x) * 0.5f);
}
