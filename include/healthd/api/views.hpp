#pragma once
// The JSON documents of /api/v1/platform (docs/api.md). Pure functions of their arguments: no clock, no I/O, so a
// document is a function of state and can be rendered once per state change. Timestamps are RFC 3339 UTC with
// milliseconds; absent values are null. Members keep the documented order (ordered_json), subsystems and breakers
// config order, so `curl | jq` reads like the docs.

#include "healthd/breaker/circuit_breaker.hpp"
#include "healthd/engine/heal_service.hpp"
#include "healthd/engine/platform_state.hpp"
#include "healthd/healing_log/healing_log.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string_view>
#include <vector>

namespace healthd::api {

// GET /health: {"status", "checked_at", "started_at", "version", "subsystems": {name: ...}, "summary"}.
[[nodiscard]] nlohmann::ordered_json health_json(const platform_view& view, std::string_view version);

// One subsystem as it appears under "subsystems" in /health.
[[nodiscard]] nlohmann::ordered_json subsystem_json(const subsystem_view& subsystem);

// GET /subsystems/{name}: subsystem_json plus "name", "description", "depends_on", "history" (oldest first) and
// "last_hour" (availability and p50/p95 latency as of the optimization loop's last refresh).
[[nodiscard]] nlohmann::ordered_json subsystem_detail_json(const subsystem_view& subsystem,
                                                           const std::vector<probe_sample>& history);

// GET /circuit-breakers: {"circuit_breakers": {name: {...}}}, in config order.
[[nodiscard]] nlohmann::ordered_json breakers_json(const std::vector<breaker_snapshot>& breakers);

[[nodiscard]] nlohmann::ordered_json healing_entry_json(const healing_entry& entry);

// GET /healing-log: {"capacity", "entries": [...]}, entries as given (newest first).
[[nodiscard]] nlohmann::ordered_json healing_log_json(std::size_t capacity, const std::vector<healing_entry>& entries);

// POST /heal/{subsystem} answered 200: {"subsystem", "result", "entries", "status"}.
[[nodiscard]] nlohmann::ordered_json heal_done_json(const manual_heal_done& done);

// {"error":{"code":..., "message":...}}
[[nodiscard]] nlohmann::ordered_json error_json(std::string_view code, std::string_view message);

}  // namespace healthd::api
