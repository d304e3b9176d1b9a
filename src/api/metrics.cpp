#include "healthd/api/metrics.hpp"

#include <array>
#include <charconv>
#include <chrono>

namespace healthd::api {

void http_metrics::record_request(std::string_view route, int status) {
  std::lock_guard lock(mutex_);
  ++requests_[{route, status}];
}

void http_metrics::connection_opened() noexcept {
  open_.fetch_add(1, std::memory_order_relaxed);
  opened_.fetch_add(1, std::memory_order_relaxed);
}

void http_metrics::connection_closed() noexcept { open_.fetch_sub(1, std::memory_order_relaxed); }
void http_metrics::connection_rejected() noexcept { rejected_.fetch_add(1, std::memory_order_relaxed); }
void http_metrics::accept_backoff() noexcept { backoffs_.fetch_add(1, std::memory_order_relaxed); }

http_counters http_metrics::read() const {
  http_counters counters;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [key, count] : requests_)
      counters.requests.emplace(std::make_pair(std::string(key.first), key.second), count);
  }
  counters.open_connections = open_.load(std::memory_order_relaxed);
  counters.connections_total = opened_.load(std::memory_order_relaxed);
  counters.connections_rejected = rejected_.load(std::memory_order_relaxed);
  counters.accept_backoffs = backoffs_.load(std::memory_order_relaxed);
  return counters;
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

namespace {

// Writes one metric family at a time: HELP and TYPE first, then its samples, never interleaved with another family.
class exposition {
public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    name_ = name;
    out_.append("# HELP ").append(name).append(" ").append(help).append("\n");
    out_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
  }

  using labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

  void sample(labels l, double value) {
    out_.append(name_);
    if (l.size() != 0) {
      out_.push_back('{');
      bool first = true;
      for (const auto& [key, text] : l) {
        if (!first) out_.push_back(',');
        first = false;
        out_.append(key).append("=\"").append(escape_label_value(text)).append("\"");
      }
      out_.push_back('}');
    }
    out_.push_back(' ');
    // Fixed notation reads better than the shorter "1.8e+09" for timestamps and counts; 400 chars fit any double.
    std::array<char, 400> buffer{};
    const auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value, std::chars_format::fixed);
    out_.append(buffer.data(), ec == std::errc{} ? end : buffer.data());
    out_.push_back('\n');
  }

  void sample(double value) { sample({}, value); }

  // A family of one unlabelled sample.
  void single(std::string_view name, std::string_view type, std::string_view help, double value) {
    family(name, type, help);
    sample(value);
  }

  [[nodiscard]] std::string take() { return std::move(out_); }

private:
  std::string out_;
  std::string name_;
};

constexpr std::array health_statuses{health_status::pending, health_status::healthy, health_status::degraded,
                                     health_status::critical, health_status::recovering};
constexpr std::array breaker_states{breaker_state::closed, breaker_state::open, breaker_state::half_open};

double seconds_since_epoch(wall_time t) { return std::chrono::duration<double>(t.time_since_epoch()).count(); }

double to_double(std::uint64_t v) { return static_cast<double>(v); }

}  // namespace

std::string render_metrics(const metrics_input& in) {
  exposition out;
  out.family("healthd_build_info", "gauge", "Build of the running daemon; always 1.");
  out.sample({{"version", in.version}}, 1);
  out.single("healthd_start_time_seconds", "gauge", "Time the daemon started, in seconds since the Unix epoch.",
             seconds_since_epoch(in.platform.started_at));

  out.family("healthd_platform_status", "gauge", "Platform status: 1 for the current status, 0 for the others.");
  for (const auto s : health_statuses)
    out.sample({{"status", to_string(s)}}, in.platform.status == s ? 1 : 0);

  out.family("healthd_subsystem_status", "gauge", "Subsystem status: 1 for the current status, 0 for the others.");
  for (const auto& sub : in.platform.subsystems) {
    for (const auto s : health_statuses)
      out.sample({{"subsystem", sub.name}, {"status", to_string(s)}}, sub.status == s ? 1 : 0);
  }
  out.family("healthd_subsystem_probe_latency_seconds", "gauge", "Latency of the subsystem's last probe.");
  for (const auto& sub : in.platform.subsystems) {
    if (sub.latency_ms) out.sample({{"subsystem", sub.name}}, *sub.latency_ms / 1000.0);
  }
  out.family("healthd_subsystem_last_check_timestamp_seconds", "gauge",
             "Time of the subsystem's last probe result, in seconds since the Unix epoch.");
  for (const auto& sub : in.platform.subsystems) {
    if (sub.last_check) out.sample({{"subsystem", sub.name}}, seconds_since_epoch(*sub.last_check));
  }
  out.family("healthd_subsystem_availability_ratio", "gauge",
             "Share of the subsystem's probes that passed in the last hour (as of the optimization loop).");
  for (const auto& sub : in.platform.subsystems) {
    if (sub.last_hour.availability) out.sample({{"subsystem", sub.name}}, *sub.last_hour.availability);
  }
  out.family("healthd_subsystem_probe_latency_p50_seconds", "gauge", "Median probe latency over the last hour.");
  for (const auto& sub : in.platform.subsystems) {
    if (sub.last_hour.p50_ms) out.sample({{"subsystem", sub.name}}, *sub.last_hour.p50_ms / 1000.0);
  }
  out.family("healthd_subsystem_probe_latency_p95_seconds", "gauge",
             "95th percentile of probe latency over the last hour.");
  for (const auto& sub : in.platform.subsystems) {
    if (sub.last_hour.p95_ms) out.sample({{"subsystem", sub.name}}, *sub.last_hour.p95_ms / 1000.0);
  }
  out.family("healthd_subsystem_consecutive_failures", "gauge", "Failed probes in a row, 0 after a passing probe.");
  for (const auto& sub : in.platform.subsystems)
    out.sample({{"subsystem", sub.name}}, sub.consecutive_failures);

  out.family("healthd_breaker_state", "gauge", "Circuit breaker state: 1 for the current state, 0 for the others.");
  for (const auto& b : in.breakers) {
    for (const auto s : breaker_states)
      out.sample({{"breaker", b.name}, {"state", to_string(s)}}, b.state == s ? 1 : 0);
  }
  out.family("healthd_breaker_recent_failures", "gauge",
             "Failures the breaker is counting towards opening (consecutive, or in the window in rate mode).");
  for (const auto& b : in.breakers)
    out.sample({{"breaker", b.name}}, b.failure_count);
  out.family("healthd_breaker_recovery_timeout_seconds", "gauge",
             "Recovery timeout of the breaker's current or next open period, without jitter.");
  for (const auto& b : in.breakers)
    out.sample({{"breaker", b.name}}, b.current_recovery_timeout_s);
  out.family("healthd_breaker_calls_total", "counter", "Calls through the breaker by outcome.");
  for (const auto& b : in.breakers) {
    out.sample({{"breaker", b.name}, {"outcome", "success"}}, to_double(b.successes));
    out.sample({{"breaker", b.name}, {"outcome", "failure"}}, to_double(b.failures));
    out.sample({{"breaker", b.name}, {"outcome", "rejected"}}, to_double(b.rejected));
  }
  out.family("healthd_breaker_opened_total", "counter", "Times the breaker opened.");
  for (const auto& b : in.breakers)
    out.sample({{"breaker", b.name}}, to_double(b.times_opened));

  out.family("healthd_heals_total", "counter", "Healing log entries since start, by subsystem, trigger and result.");
  for (const auto& h : in.heals) {
    out.sample({{"subsystem", h.subsystem}, {"trigger", to_string(h.trigger)}, {"result", to_string(h.result)}},
               to_double(h.count));
  }

  out.single("healthd_probes_total", "counter", "Probes run, verification probes included.",
             to_double(in.daemon.probes_run));
  out.single("healthd_probes_rejected_total", "counter", "Probes skipped because the subsystem's breaker was open.",
             to_double(in.daemon.probes_rejected));
  out.single("healthd_connection_watch_wakeups_total", "counter",
             "Kept PostgreSQL or Redis connections seen closed by their server between probes.",
             to_double(in.daemon.watch_wakeups));
  out.single("healthd_audit_write_failures_total", "counter",
             "Healing-log entries that could not be appended to the audit file.",
             to_double(in.daemon.audit_write_failures));
  out.family("healthd_config_reloads_total", "counter", "SIGHUP config reloads by result.");
  out.sample({{"result", "applied"}}, to_double(in.daemon.reloads_applied));
  out.sample({{"result", "rejected"}}, to_double(in.daemon.reloads_rejected));
  out.single("healthd_config_last_reload_successful", "gauge",
             "1 if the last SIGHUP reload was applied (or none happened yet), 0 if it was rejected.",
             in.daemon.last_reload_ok ? 1 : 0);

  out.family("healthd_http_requests_total", "counter", "HTTP requests answered, by route and status code.");
  for (const auto& [key, count] : in.http.requests) {
    const auto code = std::to_string(key.second);
    out.sample({{"route", key.first}, {"code", code}}, to_double(count));
  }
  out.single("healthd_http_connections", "gauge", "Open HTTP connections.",
             static_cast<double>(in.http.open_connections));
  out.single("healthd_http_connections_total", "counter", "HTTP connections accepted.",
             to_double(in.http.connections_total));
  out.single("healthd_http_connections_rejected_total", "counter",
             "HTTP connections refused with 503 because the connection limit was reached.",
             to_double(in.http.connections_rejected));
  out.single("healthd_http_accept_backoffs_total", "counter",
             "Pauses in accepting connections because the process ran out of file descriptors.",
             to_double(in.http.accept_backoffs));
  return out.take();
}

}  // namespace healthd::api
