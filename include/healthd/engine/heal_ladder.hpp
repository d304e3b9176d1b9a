#pragma once
// One subsystem's healing decisions (docs/healing.md): the escalation ladder, cooldown, hourly limit, dependency
// rule and healing mode. Pure: no I/O, no clock reads — `now` is passed in. Not thread-safe: owned by the
// subsystem's runner, which serialises calls.

#include "healthd/config/config.hpp"
#include "healthd/core/clock.hpp"
#include "healthd/core/status.hpp"

#include <cstddef>
#include <deque>
#include <optional>
#include <string>

namespace healthd {

struct heal_context {
  config::healing_mode mode = config::healing_mode::automatic;
  // The first of the subsystem's dependencies that is critical or recovering, with that status.
  std::optional<std::string> blocking_dependency;
  health_status blocking_status = health_status::critical;
};

struct heal_decision {
  enum class kind {
    none,   // nothing to do (healing off, no actions, or a skip already logged for this condition)
    run,    // run rung `rung` (dry_run: log it as skipped with detail "dry run" instead of running it)
    skip,   // log one `skipped` entry with `detail`
    defer,  // in cooldown: ask again at `retry_at`
  };
  kind what = kind::none;
  std::size_t rung = 0;
  bool dry_run = false;
  std::string detail;
  steady_time retry_at{};
};

class heal_ladder {
public:
  explicit heal_ladder(config::heal_config config);

  // An automatic trigger: the breaker opened, a half-open trial failed, or (no breaker) another `after_failures`
  // consecutive failures. A `run` decision counts as an attempt and moves the ladder on.
  [[nodiscard]] heal_decision on_trigger(const instant& now, const heal_context& context);

  // A forced heal: the current rung, bypassing cooldown and the hourly limit (it still counts toward it). The
  // dependency rule is the caller's to check first. Returns nullopt when the subsystem has no heal actions.
  [[nodiscard]] std::optional<std::size_t> on_manual(const instant& now);

  // A heal by an action given with its trigger (a log rule's own action) instead of a rung: counts toward the
  // cooldown and the hourly limit and starts an episode, but leaves the ladder's position as it is.
  void on_override(const instant& now);

  // The end of the cooldown when it is still running at `now`; nullopt once it is over (or no attempt was made).
  [[nodiscard]] std::optional<steady_time> cooldown_until(const instant& now) const;

  // The subsystem passed a probe: the episode ends, the ladder goes back to its first rung.
  void on_probe_passed();

  // Config reload: keeps attempts and position (clamped to the new ladder).
  void reconfigure(config::heal_config config);

  // Attempts in the hour before `now`, when they have reached `max_per_hour`; nullopt otherwise.
  [[nodiscard]] std::optional<int> exhausted(const instant& now) const;
  [[nodiscard]] int attempts_last_hour(const instant& now) const;
  [[nodiscard]] std::size_t current_rung() const noexcept;
  [[nodiscard]] bool in_episode() const noexcept { return in_episode_; }

private:
  void record_attempt(const instant& now);
  void prune(const instant& now) const;

  config::heal_config config_;
  std::size_t next_rung_ = 0;
  bool in_episode_ = false;
  mutable std::deque<steady_time> attempts_;  // within the last hour, oldest first
  std::optional<steady_time> last_attempt_;
  bool exhausted_logged_ = false;
  std::optional<std::string> dependency_logged_;  // the dependency whose skip was logged in this episode
};

}  // namespace healthd
