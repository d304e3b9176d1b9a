#include "healthd/api/views.hpp"

#include "healthd/core/time_format.hpp"
#include "healthd/healing_log/entry_json.hpp"

#include <cmath>
#include <cstdint>

namespace healthd::api {

namespace {

using json = nlohmann::ordered_json;

json timestamp(const std::optional<wall_time>& t) { return t ? json(format_rfc3339_ms(*t)) : json(nullptr); }

template <typename T>
json optional_text(const std::optional<T>& value) {
  return value ? json(std::string(*value)) : json(nullptr);
}

// Whole numbers print without a fraction ("60", not "60.0"), as the documents in docs/api.md show them.
json number(double value) {
  constexpr double exact_integers = 9007199254740992.0;  // 2^53
  if (std::trunc(value) == value && std::fabs(value) < exact_integers) return static_cast<std::int64_t>(value);
  return value;
}

// Microsecond precision is all a latency needs; it keeps documents short ("0.41", not "0.41034500000000004").
json milliseconds(double ms) { return number(std::round(ms * 1000.0) / 1000.0); }

}  // namespace

json subsystem_json(const subsystem_view& s) {
  return {
      {"status", to_string(s.status)},
      {"critical", s.critical},
      {"loop", s.loop},
      {"breaker", optional_text(s.breaker)},
      {"breaker_state", s.breaker_state ? json(to_string(*s.breaker_state)) : json(nullptr)},
      {"last_check", timestamp(s.last_check)},
      {"latency_ms", s.latency_ms ? milliseconds(*s.latency_ms) : json(nullptr)},
      {"consecutive_failures", s.consecutive_failures},
      {"message", s.message},
      {"details", s.details.is_null() ? json::object() : json(s.details)},
  };
}

json health_json(const platform_view& view, std::string_view version) {
  json subsystems = json::object();
  for (const auto& s : view.subsystems)
    subsystems[s.name] = subsystem_json(s);
  return {
      {"status", to_string(view.status)},
      {"checked_at", timestamp(view.checked_at)},
      {"started_at", format_rfc3339_ms(view.started_at)},
      {"version", version},
      {"subsystems", std::move(subsystems)},
      {"summary",
       {{"healthy", view.summary.healthy},
        {"degraded", view.summary.degraded},
        {"critical", view.summary.critical},
        {"recovering", view.summary.recovering},
        {"pending", view.summary.pending}}},
  };
}

json subsystem_detail_json(const subsystem_view& s, const std::vector<probe_sample>& history) {
  json doc = subsystem_json(s);
  doc["name"] = s.name;
  doc["description"] = s.description;
  doc["depends_on"] = s.depends_on;
  json samples = json::array();
  for (const auto& sample : history) {
    samples.push_back({{"at", format_rfc3339_ms(sample.at)},
                       {"status", to_string(sample.status)},
                       {"latency_ms", milliseconds(sample.latency_ms)},
                       {"message", sample.message}});
  }
  doc["history"] = std::move(samples);
  const auto& hour = s.last_hour;
  doc["last_hour"] = {
      {"probes", hour.probes},
      {"passed", hour.passed},
      {"availability", hour.availability ? json(*hour.availability) : json(nullptr)},
      {"p50_ms", hour.p50_ms ? milliseconds(*hour.p50_ms) : json(nullptr)},
      {"p95_ms", hour.p95_ms ? milliseconds(*hour.p95_ms) : json(nullptr)},
  };
  return doc;
}

json breakers_json(const std::vector<breaker_snapshot>& breakers) {
  json all = json::object();
  for (const auto& b : breakers) {
    all[b.name] = {
        {"state", to_string(b.state)},
        {"failure_count", b.failure_count},
        {"failure_threshold", b.failure_threshold},
        {"recovery_timeout_s", number(b.recovery_timeout_s)},
        {"current_recovery_timeout_s", number(b.current_recovery_timeout_s)},
        {"opened_at", timestamp(b.opened_at)},
        {"next_attempt_at", timestamp(b.next_attempt_at)},
        {"last_failure_at", timestamp(b.last_failure_at)},
        {"last_failure", optional_text(b.last_failure)},
        {"times_opened", b.times_opened},
        {"successes", b.successes},
        {"failures", b.failures},
        {"rejected", b.rejected},
    };
  }
  return {{"circuit_breakers", std::move(all)}};
}

json healing_entry_json(const healing_entry& e) {
  // The values come from the one shape shared with the audit file; only the member order is the API's.
  const nlohmann::json shared = to_json(e);
  json entry = json::object();
  for (const char* key :
       {"id", "timestamp", "subsystem", "action", "trigger", "result", "verification", "detail", "platform_status"}) {
    if (const auto it = shared.find(key); it != shared.end()) entry[key] = *it;
  }
  for (const auto& [key, value] : shared.items()) {
    if (!entry.contains(key)) entry[key] = value;
  }
  return entry;
}

json healing_log_json(std::size_t capacity, const std::vector<healing_entry>& entries) {
  json list = json::array();
  for (const auto& e : entries)
    list.push_back(healing_entry_json(e));
  return {{"capacity", capacity}, {"entries", std::move(list)}};
}

json heal_done_json(const manual_heal_done& done) {
  json entries = json::array();
  for (const auto& e : done.entries)
    entries.push_back(healing_entry_json(e));
  return {
      {"subsystem", done.subsystem},
      {"result", to_string(done.result)},
      {"entries", std::move(entries)},
      {"status", to_string(done.status)},
  };
}

json error_json(std::string_view code, std::string_view message) {
  return {{"error", {{"code", code}, {"message", message}}}};
}

}  // namespace healthd::api
