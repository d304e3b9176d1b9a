#include "healthd/engine/heal_ladder.hpp"

#include "healthd/core/status_rules.hpp"

#include <algorithm>
#include <chrono>

namespace healthd {

namespace {
constexpr auto one_hour = std::chrono::hours{1};
}

heal_ladder::heal_ladder(config::heal_config config) : config_(std::move(config)) {}

heal_decision heal_ladder::on_trigger(const instant& now, const heal_context& context) {
  heal_decision d;
  if (context.mode == config::healing_mode::off || config_.actions.empty()) return d;
  in_episode_ = true;

  if (context.blocking_dependency) {
    if (dependency_logged_ == context.blocking_dependency) return d;
    dependency_logged_ = context.blocking_dependency;
    d.what = heal_decision::kind::skip;
    d.detail = dependency_message(*context.blocking_dependency, context.blocking_status);
    return d;
  }
  dependency_logged_.reset();

  if (const auto n = exhausted(now)) {
    if (exhausted_logged_) return d;
    exhausted_logged_ = true;
    d.what = heal_decision::kind::skip;
    d.detail = healing_exhausted_message(*n);
    return d;
  }
  exhausted_logged_ = false;

  if (const auto ready_at = cooldown_until(now)) {
    d.what = heal_decision::kind::defer;
    d.retry_at = *ready_at;
    return d;
  }

  d.what = heal_decision::kind::run;
  d.rung = current_rung();
  d.dry_run = context.mode == config::healing_mode::dry_run;
  if (d.dry_run) d.detail = "dry run";
  record_attempt(now);
  return d;
}

std::optional<std::size_t> heal_ladder::on_manual(const instant& now) {
  if (config_.actions.empty()) return std::nullopt;
  in_episode_ = true;
  const auto rung = current_rung();
  record_attempt(now);
  return rung;
}

void heal_ladder::on_override(const instant& now) {
  in_episode_ = true;
  attempts_.push_back(now.steady);
  last_attempt_ = now.steady;
}

std::optional<steady_time> heal_ladder::cooldown_until(const instant& now) const {
  if (!last_attempt_) return std::nullopt;
  const auto ready_at = *last_attempt_ + to_duration(config_.cooldown_s);
  if (now.steady < ready_at) return ready_at;
  return std::nullopt;
}

void heal_ladder::on_probe_passed() {
  next_rung_ = 0;
  in_episode_ = false;
  exhausted_logged_ = false;
  dependency_logged_.reset();
}

void heal_ladder::reconfigure(config::heal_config config) { config_ = std::move(config); }

std::optional<int> heal_ladder::exhausted(const instant& now) const {
  const int n = attempts_last_hour(now);
  if (n >= config_.max_per_hour) return n;
  return std::nullopt;
}

int heal_ladder::attempts_last_hour(const instant& now) const {
  prune(now);
  return static_cast<int>(attempts_.size());
}

std::size_t heal_ladder::current_rung() const noexcept {
  if (config_.actions.empty()) return 0;
  return std::min(next_rung_, config_.actions.size() - 1);
}

void heal_ladder::record_attempt(const instant& now) {
  attempts_.push_back(now.steady);
  last_attempt_ = now.steady;
  next_rung_ = current_rung() + 1;
}

void heal_ladder::prune(const instant& now) const {
  while (!attempts_.empty() && attempts_.front() <= now.steady - one_hour)
    attempts_.pop_front();
}

}  // namespace healthd
