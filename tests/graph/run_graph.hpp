#pragma once
// Runs a Session through its zero-copy overload, outputs allocated up front and passed as views,
// so graph and pass tests exercise that path too (the Tensor overload has its own tests in
// tests/engine/test_session.cpp).
#include <vector>

#include "engine/model.hpp"
#include "engine/session.hpp"

namespace octet::test {

inline std::vector<Tensor> run_session(Session& session, const std::vector<Tensor>& inputs) {
  std::vector<Tensor> outputs;
  const size_t count = session.plan().output_slots().size();
  outputs.reserve(count);
  for (size_t i = 0; i < count; ++i)
    outputs.emplace_back(session.output_info(i).dtype, session.output_info(i).shape);
  std::vector<TensorView> in, out;
  for (const auto& tensor : inputs) in.push_back(tensor.view());
  for (const auto& tensor : outputs) out.push_back(tensor.view());
  session.run(in, out);
  return outputs;
}

inline std::vector<Tensor> run_graph(Graph graph, bool optimize, const std::vector<Tensor>& inputs) {
  Model model = Model::from_graph(std::move(graph), optimize);
  Session session(model);
  return run_session(session, inputs);
}

}  // namespace octet::test
