#pragma once
// The status rules (docs/status-rules.md), as pure functions of facts. No I/O, no clock, no locks.

#include "healthd/core/status.hpp"

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace healthd {

struct subsystem_facts {
  std::optional<probe_status> last_probe;  // nullopt: never probed
  std::optional<breaker_state> breaker;    // nullopt: the subsystem has no breaker
  bool heal_running = false;
  bool awaiting_verification = false;  // an action succeeded; its verification probe has not finished
  // Never probed because its (shared) breaker refused the probe: not pending, but what the breaker says.
  bool refused_by_breaker = false;
};

// First that applies: pending, recovering, critical, degraded, healthy. A subsystem never probed is pending unless
// its breaker refused the probe: then it is critical while the breaker is open, recovering while half-open.
[[nodiscard]] health_status subsystem_status(const subsystem_facts& facts) noexcept;

struct platform_member {
  health_status status = health_status::pending;
  bool critical = false;  // the subsystem's `critical: true` flag
};

// Over the members that have been probed (pending while none has): critical if a `critical: true` member is
// critical or at least half of them are critical; else recovering if any is; else degraded if any is degraded or
// critical; else healthy.
[[nodiscard]] health_status platform_status(std::span<const platform_member> members) noexcept;

// The dependency rule: a subsystem is not healed, and its message names the dependency, while one of its
// dependencies is critical or recovering.
[[nodiscard]] constexpr bool blocks_dependents(health_status s) noexcept {
  return s == health_status::critical || s == health_status::recovering;
}

// The first of `depends_on` whose status (from `status_of`: std::string_view -> std::optional<health_status>,
// nullopt for an unknown name) blocks its dependents, with that status.
template <typename StatusOf>
[[nodiscard]] std::optional<std::pair<std::string, health_status>> blocking_dependency(
    const std::vector<std::string>& depends_on, StatusOf&& status_of) {
  for (const auto& dep : depends_on) {
    const std::optional<health_status> s = status_of(std::string_view(dep));
    if (s && blocks_dependents(*s)) return std::make_pair(dep, *s);
  }
  return std::nullopt;
}

// The texts these rules show, each written once: "dependency database is critical",
// "healing exhausted: 6 attempts in the last hour".
[[nodiscard]] std::string dependency_message(std::string_view dependency, health_status status);
[[nodiscard]] std::string healing_exhausted_message(int attempts_last_hour);

}  // namespace healthd
