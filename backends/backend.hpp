#pragma once
// A backend turns graph nodes into runnable kernels. It says per node whether it can run it
// and why not, prepares each kernel once per model (weight packing, parameters), and runs it.
#include <memory>
#include <string>
#include <vector>

#include "graph/graph.hpp"

namespace octet {

struct Support {
  bool ok = true;
  std::string reason;  // why not, when !ok
  static Support yes() { return {}; }
  static Support no(std::string why) { return {false, std::move(why)}; }
};

// A prepared node. run() reads inputs and writes outputs whose buffers the executor owns;
// shapes are those the graph inferred. Must be callable from several threads on different
// buffers (no mutable state), so one prepared model serves many sessions.
class Kernel {
 public:
  virtual ~Kernel() = default;
  virtual void run(const TensorView* inputs, TensorView* outputs) const = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;
  virtual Support supports(const Graph& graph, const Node& node) const = 0;
  // Throws octet::Error if the node is not supported.
  virtual std::unique_ptr<Kernel> prepare(const Graph& graph, const Node& node) const = 0;
};

std::unique_ptr<Backend> make_ref_backend();
// SIMD kernels (AVX2/NEON, chosen at run time) with `threads` OpenMP threads per kernel.
std::unique_ptr<Backend> make_cpu_backend(int threads);

}  // namespace octet
