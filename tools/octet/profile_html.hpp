#pragma once
// `octet profile --html`: the profile as ONE self-contained HTML file that works offline —
// inline CSS and SVG charts, no script, no font or image to fetch (a Content-Security-Policy
// forbids every load, so anything that tried would show as a console error).
#include <nlohmann/json.hpp>

#include <string>

namespace octet::cli {

// Built from the profile JSON (profile_json.hpp), with its "sensitivity" section when present.
std::string profile_html(const nlohmann::json& profile);

}  // namespace octet::cli
