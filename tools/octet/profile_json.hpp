#pragma once
// The profile as one JSON document (`octet profile --json`), which the CSV and HTML reports are
// also drawn from. Non-finite numbers (the SQNR of identical outputs) are null.
#include <nlohmann/json.hpp>

#include <string>

#include "engine/profile.hpp"

namespace octet::cli {

struct ProfileRunInfo {
  std::string model, ref, data;
  double seconds = 0.0;
};

nlohmann::json profile_json(const ProfileReport& report, const ProfileRunInfo& info);

// One row per layer and backend, the per-layer statistics flattened (`octet profile --csv`).
std::string profile_csv(const nlohmann::json& profile);

}  // namespace octet::cli
