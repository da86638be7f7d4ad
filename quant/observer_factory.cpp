// make_observer / observer_kinds, and the argument checks every Observer::range() shares.
#include <string>

#include "graph/error.hpp"
#include "quant/entropy_observer.hpp"
#include "quant/minmax_observer.hpp"
#include "quant/moving_average_observer.hpp"
#include "quant/mse_observer.hpp"
#include "quant/observer.hpp"
#include "quant/percentile_observer.hpp"

namespace octet::quant {

std::vector<std::string> observer_kinds() {
  return {"minmax", "moving-average", "percentile", "entropy", "mse"};
}

std::unique_ptr<Observer> make_observer(const std::string& kind) {
  if (kind == "minmax") return std::make_unique<MinMaxObserver>();
  if (kind == "moving-average") return std::make_unique<MovingAverageObserver>();
  if (kind == "percentile") return std::make_unique<PercentileObserver>();
  if (kind == "entropy") return std::make_unique<EntropyObserver>(EntropyObserver::kDefaultBins);
  if (kind == "mse") return std::make_unique<MseObserver>();
  std::string valid;
  for (const std::string& k : observer_kinds()) valid += (valid.empty() ? "" : ", ") + k;
  throw Error("unknown observer kind '" + kind + "' (valid kinds: " + valid + ")");
}

void check_range_request(const Observer& observer, const RangeRequest& request) {
  if (observer.empty()) {
    throw Error(std::string(observer.name()) +
                " observer: range() requested before any value was observed");
  }
  if (request.levels < 2) {
    throw Error(std::string(observer.name()) + " observer: a range needs at least 2 levels, got " +
                std::to_string(request.levels));
  }
}

}  // namespace octet::quant
