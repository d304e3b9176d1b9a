#pragma once
// The one JSON shape of a healing entry, shared by the API and the audit file:
// {"id":17,"timestamp":"2026-11-28T07:17:22.123Z","subsystem":"redis","action":"exec:restart-redis",
//  "trigger":"auto","result":"success","verification":"passed","detail":"...","platform_status":"degraded"}
// `verification` is always written ("passed", "failed" or null); a line without it (from an older version) reads as
// null.

#include "healthd/healing_log/healing_log.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace healthd {

[[nodiscard]] nlohmann::json to_json(const healing_entry& entry);

// nullopt when a field is missing or has the wrong type or value; `error` (if given) says which.
[[nodiscard]] std::optional<healing_entry> entry_from_json(const nlohmann::json& j, std::string* error = nullptr);

}  // namespace healthd
