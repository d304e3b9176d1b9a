#pragma once
// One log rule's window as a sans-I/O state machine (docs/logwatch.md, "Rule windows"): `on(event)` returns the
// action to perform, if any. The driver feeds what the matcher saw on each line and what engine::trigger answered;
// it performs `fire` by calling engine::trigger and feeds the answer back. Pure: no I/O, no clock reads (`now` comes
// with the events). Not thread-safe: one driver feeds it.
//
// Counting: a rule fires when `threshold` counted matches fall within `window_s` (the oldest at most `window_s`
// before the newest). It is then quiet for `cooldown_s` from the fire, and also until the trigger is answered (at most
// one trigger in flight per rule; the driver must answer every fire). Matches while quiet are counted as suppressed,
// not lost silently. After the quiet time it counts afresh: the window was emptied when it fired. The window holds at
// most `threshold` timestamps.

#include "healthd/core/clock.hpp"
#include "healthd/core/secrets.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace healthd::logwatch {

// What the FSM needs of a rule's config.
struct rule_settings {
  std::string name;
  std::string subsystem;
  std::size_t threshold = 1;  // >= 1
  double window_s = 60;       // >= 0
  double cooldown_s = 300;    // >= 0
};

// How much of a matching line a fire and the counters keep.
inline constexpr std::size_t max_rule_line_bytes = 512;

enum class trigger_answer { started, deferred, refused };

namespace rule_event {
// The rule's pattern matched `line` and its ignore did not. The line as read: the FSM sanitizes what it keeps.
struct matched {
  instant now;
  std::string_view line;
};
struct ignored {};  // the pattern matched, and so did the ignore
struct trigger_answered {
  trigger_answer answer = trigger_answer::started;
  std::string reason;  // when refused: the refusal's name ("cooldown", "hourly_limit", ...), counted by it
};
struct tick {
  instant now;
};
}  // namespace rule_event

using rule_fsm_event =
    std::variant<rule_event::matched, rule_event::ignored, rule_event::trigger_answered, rule_event::tick>;

namespace rule_action {
// Call engine::trigger(subsystem, log, reason, the rule's action), then feed trigger_answered.
struct fire {
  std::string rule;
  std::string subsystem;
  std::string reason;  // names the rule and carries `line`
  std::string line;    // the line that made it fire: redacted, valid UTF-8, at most max_rule_line_bytes
};
}  // namespace rule_action

struct rule_counters {
  std::uint64_t matched = 0;     // counted matches, suppressed ones included
  std::uint64_t ignored = 0;     // lines the pattern matched and the ignore excluded
  std::uint64_t fired = 0;       // triggers sent
  std::uint64_t suppressed = 0;  // matches while quiet (cooldown or a trigger in flight)
  std::uint64_t started = 0;     // triggers answered with a heal
  std::uint64_t deferred = 0;
  std::map<std::string, std::uint64_t, std::less<>> refused;  // by reason
  std::optional<wall_time> last_match_at;
  std::string last_match_line;  // sanitized like fire::line

  [[nodiscard]] std::uint64_t refused_total() const noexcept;
};

class rule_fsm {
public:
  // `secrets` (may be null: nothing to redact) are redacted from every line kept.
  rule_fsm(rule_settings settings, std::shared_ptr<const secret_set> secrets);

  [[nodiscard]] std::optional<rule_action::fire> on(const rule_fsm_event& event);

  [[nodiscard]] const rule_counters& counters() const noexcept { return counters_; }
  [[nodiscard]] const rule_settings& settings() const noexcept { return settings_; }
  // Counted matches in the window, as of the last event with a `now`.
  [[nodiscard]] std::size_t window_count() const noexcept { return window_.size(); }
  [[nodiscard]] bool awaiting_answer() const noexcept { return awaiting_answer_; }
  // While quiet: the end of the cooldown (the rule stays quiet past it while a trigger is unanswered). Quiet ends at
  // the first event with a `now` past it once the trigger was answered: a tick or a match.
  [[nodiscard]] std::optional<steady_time> quiet_until() const noexcept { return quiet_until_; }
  [[nodiscard]] bool quiet() const noexcept { return quiet_until_.has_value(); }

private:
  std::optional<rule_action::fire> on_match(const rule_event::matched& event);
  void advance(steady_time now);

  rule_settings settings_;
  std::shared_ptr<const secret_set> secrets_;
  steady_time::duration window_length_;
  steady_time::duration cooldown_length_;
  std::deque<steady_time> window_;  // counted matches within the window, oldest first; at most threshold
  std::optional<steady_time> quiet_until_;
  bool awaiting_answer_ = false;
  rule_counters counters_;
};

}  // namespace healthd::logwatch
