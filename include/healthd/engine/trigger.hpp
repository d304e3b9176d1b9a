#pragma once
// The one path by which every heal starts (docs/healing.md, "The trigger path"): `engine::trigger`. Forced heals
// (POST /heal), log rules and maintenance tasks call it; automatic heals take the same decisions inside the
// subsystem's state machine. What each kind of trigger may bypass is in docs/healing.md.

#include "healthd/core/clock.hpp"
#include "healthd/core/status.hpp"
#include "healthd/engine/heal_service.hpp"
#include "healthd/healing_log/healing_log.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace healthd::actions {
class action;
}

namespace healthd {

// An action to run instead of the ladder's current rung (a log rule's own action, a maintenance task). Build it
// beforehand (engine::build_action), off the I/O threads: building one may load a CA bundle.
struct heal_override_action {
  std::shared_ptr<actions::action> action;
  std::string label;  // as it appears in the healing log, e.g. "redis:purge-memory"
  int timeout_ms = 10000;
};

struct trigger_request {
  std::string subsystem;
  heal_trigger kind = heal_trigger::manual;
  std::string reason;  // goes into the entries' detail as "reason: ..." (valid UTF-8, at most 1 KiB kept)
  std::optional<heal_override_action> action;
};

// The heal ran; answered once its action and verification finished and its entries were recorded.
struct trigger_started {
  heal_result result = heal_result::failure;      // success: the action succeeded and its verification (if any) passed
  std::vector<healing_entry> entries;             // oldest first
  bool durable = true;                            // every entry reached the audit file (always true without one)
  health_status status = health_status::pending;  // the subsystem's status afterwards
};

// Not now: an automatic heal in cooldown (`until` its end), or a maintenance task queued behind the work in
// progress (`until` nullopt).
struct trigger_deferred {
  std::string message;
  std::optional<steady_time> until;
};

struct trigger_refused {
  heal_refusal reason = heal_refusal::heal_in_progress;
  std::string message;
  std::optional<std::chrono::seconds> retry_after;
};

using trigger_outcome = std::variant<trigger_started, trigger_deferred, trigger_refused>;

}  // namespace healthd
