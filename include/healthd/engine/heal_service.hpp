#pragma once
// What the HTTP API asks of the engine for `POST /heal/{subsystem}`. The engine implements it; until it runs, the
// API holds no heal_service and answers 503 engine_unavailable. Refusals are values, mapped to HTTP statuses in
// one place in the API.

#include "healthd/core/status.hpp"
#include "healthd/healing_log/healing_log.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace healthd {

struct manual_heal_request {
  std::string subsystem;
  std::string reason;  // caller's reason, goes into the entries' detail
};

// Answered after the action and its verification probe finished.
struct manual_heal_done {
  std::string subsystem;
  heal_result result = heal_result::failure;
  std::vector<healing_entry> entries;             // the log entries this heal created, oldest first
  health_status status = health_status::pending;  // the subsystem's status after verification
};

enum class heal_refusal {
  unknown_subsystem,    // 404 not_found
  heal_in_progress,     // 409
  dependency_critical,  // 409
  no_heal_actions,      // 409: the subsystem has no heal.actions
  platform_cap_full,    // 503 with Retry-After
  audit_write_failed,   // 500: the action ran but its entry could not be made durable
  shutting_down,        // 503 with Retry-After
  // Only for triggers that keep the automatic limits (log rules); a forced heal bypasses them.
  hourly_limit,  // 429
  cooldown,      // 429
  healing_mode,  // 409: healing.mode is off or dry_run
};

struct manual_heal_refused {
  heal_refusal reason = heal_refusal::heal_in_progress;
  std::string message;
  std::optional<std::chrono::seconds> retry_after;
};

using manual_heal_outcome = std::variant<manual_heal_done, manual_heal_refused>;

class heal_service {
public:
  virtual ~heal_service() = default;
  // Thread-safe; may be awaited from any I/O thread. Completes within the action's and the probe's deadlines (and
  // a probe round's, when one was running: the heal waits for it).
  virtual boost::asio::awaitable<manual_heal_outcome> heal(manual_heal_request request) = 0;
};

}  // namespace healthd
