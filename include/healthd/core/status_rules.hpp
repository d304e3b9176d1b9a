#pragma once
// The status rules (docs/status-rules.md), as pure functions of facts. No I/O, no clock, no locks.

#include "healthd/core/status.hpp"

#include <optional>
#include <span>

namespace healthd {

struct subsystem_facts {
  std::optional<probe_status> last_probe;  // nullopt: never probed
  std::optional<breaker_state> breaker;    // nullopt: the subsystem has no breaker
  bool heal_running = false;
  bool awaiting_verification = false;  // an action succeeded; its verification probe has not finished
};

// First that applies: pending, recovering, critical, degraded, healthy.
[[nodiscard]] health_status subsystem_status(const subsystem_facts& facts) noexcept;

struct platform_member {
  health_status status = health_status::pending;
  bool critical = false;  // the subsystem's `critical: true` flag
};

// Over the members that have been probed (pending while none has): critical if a `critical: true` member is
// critical or at least half of them are critical; else recovering if any is; else degraded if any is degraded or
// critical; else healthy.
[[nodiscard]] health_status platform_status(std::span<const platform_member> members) noexcept;

}  // namespace healthd
