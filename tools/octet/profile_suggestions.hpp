#pragma once
// What to try next, read off a profile: layers to keep in float and observers per tensor (with
// the sensitivity trials' measured effect when they ran), bias correction where a layer's error
// is mostly a constant offset (effect estimated from the measured mean error), cross-layer
// equalization for per-tensor weights, and accumulator / vpmaddubsw notes.
#include <nlohmann/json.hpp>

namespace octet::cli {

// An array of {"kind", "text", "flag", "measured"} objects ("measured" is null when the effect
// was not measured).
nlohmann::json profile_suggestions(const nlohmann::json& profile);

}  // namespace octet::cli
