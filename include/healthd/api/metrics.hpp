#pragma once
// GET /metrics in the Prometheus text exposition format (0.0.4), following the naming rules `promtool check
// metrics` enforces: HELP and TYPE for every family, `_total` on counters only, base units (`_seconds`), snake_case
// names and labels. `http_metrics` counts what the server sees; render_metrics is pure.

#include "healthd/breaker/circuit_breaker.hpp"
#include "healthd/engine/platform_state.hpp"
#include "healthd/healing_log/healing_log.hpp"

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace healthd::api {

inline constexpr std::string_view metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";

struct http_counters {
  std::map<std::pair<std::string, int>, std::uint64_t> requests;  // (route, status) -> count
  std::int64_t open_connections = 0;
  std::uint64_t connections_total = 0;
  std::uint64_t connections_rejected = 0;  // beyond max_connections: 503 and close
  std::uint64_t accept_backoffs = 0;       // accept failed for lack of file descriptors
};

// The daemon's own work, counted by the engine and the SIGHUP handler and read when /metrics renders.
struct daemon_counters {
  std::uint64_t probes_run = 0;
  std::uint64_t probes_rejected = 0;       // refused by an open breaker
  std::uint64_t watch_wakeups = 0;         // a kept connection closed by its server between probes
  std::uint64_t audit_write_failures = 0;  // healing-log entries that could not be made durable
  std::uint64_t reloads_applied = 0;
  std::uint64_t reloads_rejected = 0;
  bool last_reload_ok = true;  // true before any reload
};

// Request and connection counters, fed by the server. Thread-safe.
class http_metrics {
public:
  // `route` is a route template from a small fixed set, so the label's cardinality stays bounded.
  void record_request(std::string_view route, int status);
  void connection_opened() noexcept;
  void connection_closed() noexcept;
  void connection_rejected() noexcept;
  void accept_backoff() noexcept;
  [[nodiscard]] http_counters read() const;

private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string_view, int>, std::uint64_t> requests_;  // routes are static strings
  std::atomic<std::int64_t> open_{0};
  std::atomic<std::uint64_t> opened_{0};
  std::atomic<std::uint64_t> rejected_{0};
  std::atomic<std::uint64_t> backoffs_{0};
};

struct metrics_input {
  const platform_view& platform;
  const std::vector<breaker_snapshot>& breakers;
  const std::vector<heal_count>& heals;
  const http_counters& http;
  const daemon_counters& daemon;
  std::string_view version;
};

[[nodiscard]] std::string render_metrics(const metrics_input& input);

// Escapes a label value for the text format (backslash, double quote, newline).
[[nodiscard]] std::string escape_label_value(std::string_view value);

}  // namespace healthd::api
