#include "healthd/core/status.hpp"

namespace healthd {

std::string_view to_string(probe_status s) noexcept {
  switch (s) {
    case probe_status::healthy: return "healthy";
    case probe_status::degraded: return "degraded";
    case probe_status::critical: return "critical";
  }
  return "critical";
}

std::string_view to_string(health_status s) noexcept {
  switch (s) {
    case health_status::pending: return "pending";
    case health_status::healthy: return "healthy";
    case health_status::degraded: return "degraded";
    case health_status::critical: return "critical";
    case health_status::recovering: return "recovering";
  }
  return "critical";
}

std::string_view to_string(breaker_state s) noexcept {
  switch (s) {
    case breaker_state::closed: return "closed";
    case breaker_state::open: return "open";
    case breaker_state::half_open: return "half_open";
  }
  return "open";
}

std::optional<probe_status> parse_probe_status(std::string_view text) noexcept {
  if (text == "healthy") return probe_status::healthy;
  if (text == "degraded") return probe_status::degraded;
  if (text == "critical") return probe_status::critical;
  return std::nullopt;
}

}  // namespace healthd
