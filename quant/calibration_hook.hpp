#pragma once
// The calibration Observer hook: attached to a session running the fp32 graph, it feeds every
// float value (graph inputs and node outputs) to its own observer after each node. Nothing is
// kept between runs but the observers' fixed-size state.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "graph/execution_hook.hpp"
#include "graph/graph.hpp"
#include "quant/observer.hpp"

namespace octet::quant {

class CalibrationHook final : public ExecutionHook {
 public:
  CalibrationHook(const Graph& graph, const std::string& observer_kind);

  void before(const NodeEvent& event) override;
  void after(const NodeEvent& event) override;

  bool has(const std::string& value) const { return observers_.count(value) != 0; }
  // Throws octet::Error if the value was never observed.
  Range range(const std::string& value, const RangeRequest& request) const;
  const std::string& kind() const { return kind_; }

 private:
  void observe(const std::string& value, const TensorView& view, const Node& node);

  std::string kind_;
  std::map<std::string, std::unique_ptr<Observer>> observers_;
  // Graph inputs are observed once per run, before the first node that reads them.
  std::map<size_t, std::vector<std::pair<size_t, std::string>>> inputs_at_node_;
};

}  // namespace octet::quant
