#include "healthd/core/status_rules.hpp"

#include <cstddef>
#include <string>

namespace healthd {

health_status subsystem_status(const subsystem_facts& facts) noexcept {
  if (!facts.last_probe) {
    if (!facts.refused_by_breaker) return health_status::pending;
    if (facts.breaker == breaker_state::open) return health_status::critical;
    if (facts.breaker == breaker_state::half_open) return health_status::recovering;
    return health_status::pending;
  }
  if (facts.breaker == breaker_state::half_open || facts.heal_running || facts.awaiting_verification) {
    return health_status::recovering;
  }
  const bool probe_passed = passed(*facts.last_probe);
  if (facts.breaker == breaker_state::open) return health_status::critical;
  if (!facts.breaker && !probe_passed) return health_status::critical;
  if (!probe_passed || *facts.last_probe == probe_status::degraded) return health_status::degraded;
  return health_status::healthy;
}

health_status platform_status(std::span<const platform_member> members) noexcept {
  std::size_t probed = 0;
  std::size_t critical = 0;
  bool critical_flagged_down = false;
  bool any_recovering = false;
  bool any_degraded = false;
  for (const auto& m : members) {
    if (m.status == health_status::pending) continue;
    ++probed;
    switch (m.status) {
      case health_status::critical:
        ++critical;
        critical_flagged_down = critical_flagged_down || m.critical;
        break;
      case health_status::recovering: any_recovering = true; break;
      case health_status::degraded: any_degraded = true; break;
      case health_status::pending:
      case health_status::healthy: break;
    }
  }
  if (probed == 0) return health_status::pending;
  if (critical_flagged_down || 2 * critical >= probed) return health_status::critical;
  if (any_recovering) return health_status::recovering;
  if (any_degraded || critical > 0) return health_status::degraded;
  return health_status::healthy;
}

std::string dependency_message(std::string_view dependency, health_status status) {
  return "dependency " + std::string(dependency) + " is " + std::string(to_string(status));
}

std::string healing_exhausted_message(int attempts_last_hour) {
  return "healing exhausted: " + std::to_string(attempts_last_hour) + " attempts in the last hour";
}

}  // namespace healthd
