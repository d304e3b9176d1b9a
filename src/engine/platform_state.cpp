#include "healthd/engine/platform_state.hpp"

#include "healthd/core/status_rules.hpp"
#include "healthd/core/time_format.hpp"

#include <algorithm>
#include <utility>

namespace healthd {

platform_state::platform_state(std::shared_ptr<const config::daemon_config> config,
                               std::shared_ptr<breaker_registry> breakers, wall_time started_at)
    : breakers_(std::move(breakers)), started_at_(started_at) {
  apply_config(std::move(config));
}

void platform_state::apply_config(std::shared_ptr<const config::daemon_config> config) {
  std::lock_guard lock(mutex_);
  std::map<std::string, record, std::less<>> next;
  for (const auto& s : config->subsystems) {
    auto it = records_.find(s.name);
    next.emplace(s.name, it != records_.end() ? std::move(it->second) : record{});
  }
  records_ = std::move(next);
  config_ = std::move(config);
  changed_locked();
}

void platform_state::record_probe(std::string_view subsystem, const probe_result& result, const instant& at) {
  std::lock_guard lock(mutex_);
  record_locked(subsystem, result, at.wall, at.steady);
}

void platform_state::record_probe(std::string_view subsystem, const probe_result& result, wall_time at) {
  std::lock_guard lock(mutex_);
  record_locked(subsystem, result, at, std::nullopt);
}

void platform_state::record_locked(std::string_view subsystem, const probe_result& result, wall_time at,
                                   std::optional<steady_time> steady) {
  auto it = records_.find(subsystem);
  if (it == records_.end()) return;
  auto& r = it->second;
  r.last = result;
  r.last_at = at;
  r.refused_by_breaker = false;
  r.consecutive_failures = passed(result.status) ? 0 : r.consecutive_failures + 1;
  r.history.push_back({at, result.status, result.latency.count(), result.message});
  while (r.history.size() > history_capacity)
    r.history.pop_front();
  if (steady) r.stats.record(*steady, result.latency.count(), passed(result.status));
  changed_locked();
}

void platform_state::refresh_hour_summaries(steady_time now) {
  std::lock_guard lock(mutex_);
  for (auto& [name, r] : records_)
    r.last_hour = r.stats.last_hour(now);
  changed_locked();
}

void platform_state::record_refusal(std::string_view subsystem) {
  std::lock_guard lock(mutex_);
  auto it = records_.find(subsystem);
  if (it == records_.end() || it->second.last || it->second.refused_by_breaker) return;
  it->second.refused_by_breaker = true;
  changed_locked();
}

void platform_state::set_heal_phase(std::string_view subsystem, heal_phase phase) {
  std::lock_guard lock(mutex_);
  auto it = records_.find(subsystem);
  if (it == records_.end() || it->second.phase == phase) return;
  it->second.phase = phase;
  changed_locked();
}

void platform_state::set_healing_exhausted(std::string_view subsystem, std::optional<int> attempts_last_hour) {
  std::lock_guard lock(mutex_);
  auto it = records_.find(subsystem);
  if (it == records_.end() || it->second.exhausted_attempts == attempts_last_hour) return;
  it->second.exhausted_attempts = attempts_last_hour;
  changed_locked();
}

platform_view platform_state::view() const {
  std::lock_guard lock(mutex_);
  return view_locked();
}

std::optional<subsystem_view> platform_state::subsystem(std::string_view name) const {
  auto v = view();
  for (auto& s : v.subsystems) {
    if (s.name == name) return std::move(s);
  }
  return std::nullopt;
}

std::vector<probe_sample> platform_state::history(std::string_view name) const {
  std::lock_guard lock(mutex_);
  auto it = records_.find(name);
  if (it == records_.end()) return {};
  return {it->second.history.begin(), it->second.history.end()};
}

health_status platform_state::status_of(std::string_view name) const {
  return find_status(name).value_or(health_status::pending);
}

std::optional<health_status> platform_state::find_status(std::string_view name) const {
  std::lock_guard lock(mutex_);
  const auto* cfg = config_->find_subsystem(name);
  auto it = records_.find(name);
  if (cfg == nullptr || it == records_.end()) return std::nullopt;
  return status_locked(*cfg, it->second);
}

health_status platform_state::platform_status() const {
  std::lock_guard lock(mutex_);
  std::vector<platform_member> members;
  members.reserve(config_->subsystems.size());
  for (const auto& cfg : config_->subsystems)
    members.push_back({status_locked(cfg, records_.at(cfg.name)), cfg.critical});
  return healthd::platform_status(members);
}

health_status platform_state::status_locked(const config::subsystem_config& cfg, const record& r) const {
  subsystem_facts facts;
  if (cfg.breaker) {
    if (auto b = breakers_->find(*cfg.breaker)) facts.breaker = b->state();
  }
  if (r.last) facts.last_probe = r.last->status;
  facts.refused_by_breaker = r.refused_by_breaker;
  facts.heal_running = r.phase == heal_phase::running;
  facts.awaiting_verification = r.phase == heal_phase::verifying;
  return subsystem_status(facts);
}

state_version platform_state::version() const {
  return {version_.load(std::memory_order_acquire), breakers_->version()};
}

void platform_state::changed_locked() { version_.fetch_add(1, std::memory_order_release); }

std::shared_ptr<const config::daemon_config> platform_state::config() const {
  std::lock_guard lock(mutex_);
  return config_;
}

platform_view platform_state::view_locked() const {
  platform_view view;
  view.started_at = started_at_;
  std::map<std::string, breaker_snapshot, std::less<>> breakers;
  for (auto& b : breakers_->snapshots())
    breakers.emplace(b.name, std::move(b));

  for (const auto& cfg : config_->subsystems) {
    const auto& r = records_.at(cfg.name);
    subsystem_view s;
    s.name = cfg.name;
    s.description = cfg.description;
    s.loop = cfg.loop;
    s.critical = cfg.critical;
    s.breaker = cfg.breaker;
    s.depends_on = cfg.depends_on;
    subsystem_facts facts;
    if (cfg.breaker) {
      if (auto it = breakers.find(*cfg.breaker); it != breakers.end()) {
        s.breaker_state = it->second.state;
        facts.breaker = it->second.state;
      }
    }
    if (r.last) {
      facts.last_probe = r.last->status;
      s.latency_ms = r.last->latency.count();
      s.message = r.last->message;
      s.details = r.last->details;
      s.last_check = r.last_at;
      if (!view.checked_at || *r.last_at > *view.checked_at) view.checked_at = r.last_at;
    }
    facts.refused_by_breaker = r.refused_by_breaker;
    facts.heal_running = r.phase == heal_phase::running;
    facts.awaiting_verification = r.phase == heal_phase::verifying;
    s.status = subsystem_status(facts);
    s.consecutive_failures = r.consecutive_failures;
    s.last_hour = r.last_hour;
    view.subsystems.push_back(std::move(s));
  }

  // Messages need every status first: a subsystem's message names a dependency that is down.
  std::vector<platform_member> members;
  for (auto& s : view.subsystems) {
    members.push_back({s.status, s.critical});
    const auto& r = records_.at(s.name);
    std::optional<std::string> message;
    const bool unwell = s.status != health_status::healthy && s.status != health_status::pending;
    if (unwell) {
      const auto status_of = [&](std::string_view dep) -> std::optional<health_status> {
        auto it = std::find_if(view.subsystems.begin(), view.subsystems.end(),
                               [&](const subsystem_view& o) { return o.name == dep; });
        if (it == view.subsystems.end()) return std::nullopt;
        return it->status;
      };
      if (auto dep = blocking_dependency(s.depends_on, status_of))
        message = dependency_message(dep->first, dep->second);
    }
    if (!message && unwell && r.exhausted_attempts) message = healing_exhausted_message(*r.exhausted_attempts);
    if (!message && s.breaker_state == breaker_state::open) {
      const auto& b = breakers.at(*s.breaker);
      std::string text = "circuit open";
      if (!r.last && r.refused_by_breaker) {
        // Never probed: the breaker was opened by the subsystems it is shared with.
        std::string others;
        for (const auto& o : config_->subsystems) {
          if (o.breaker == s.breaker && o.name != s.name) others += (others.empty() ? "" : ", ") + o.name;
        }
        if (!others.empty()) text += " (shared with " + others + ")";
      } else if (b.last_failure) {
        text += " (last failure: " + *b.last_failure + ")";
      }
      if (b.next_attempt_at) text += ", next attempt at " + format_rfc3339_ms(*b.next_attempt_at);
      message = std::move(text);
    }
    if (message) s.message = std::move(*message);
    switch (s.status) {
      case health_status::healthy: ++view.summary.healthy; break;
      case health_status::degraded: ++view.summary.degraded; break;
      case health_status::critical: ++view.summary.critical; break;
      case health_status::recovering: ++view.summary.recovering; break;
      case health_status::pending: ++view.summary.pending; break;
    }
  }
  view.status = healthd::platform_status(members);
  return view;
}

}  // namespace healthd
