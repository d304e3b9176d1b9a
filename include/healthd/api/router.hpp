#pragma once
// The HTTP API's routes (docs/api.md): /api/v1/platform/*, /metrics, /livez, /readyz and the static dashboard.
// Routing works on http_request/http_response only (no sockets), so every route is unit-tested directly.
// Thread-safe: handle() may run concurrently on any number of I/O threads. Everything in router_context must
// outlive the router.

#include "healthd/api/cors.hpp"
#include "healthd/api/document_cache.hpp"
#include "healthd/api/http_message.hpp"
#include "healthd/api/metrics.hpp"
#include "healthd/api/rate_limit.hpp"
#include "healthd/api/static_files.hpp"
#include "healthd/breaker/breaker_registry.hpp"
#include "healthd/core/clock.hpp"
#include "healthd/engine/heal_service.hpp"
#include "healthd/engine/platform_state.hpp"
#include "healthd/healing_log/healing_log.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace healthd::api {

inline constexpr std::string_view api_prefix = "/api/v1/platform";

struct router_context {
  const platform_state& state;
  const breaker_registry& breakers;
  const healing_log& log;
  const clock& time;                          // for the admin heal rate limit
  http_metrics& metrics;                      // rendered by /metrics; the server feeds it
  heal_service* heal = nullptr;               // null until the engine runs: POST /heal answers 503 engine_unavailable
  std::function<daemon_counters()> counters;  // for /metrics; empty: all zero. Must be thread-safe.
};

struct router_options {
  std::optional<std::string> admin_token;  // none: POST /heal answers 403 "admin endpoint disabled"
  std::vector<std::string> cors_origins;
  std::filesystem::path static_dir;  // empty, missing or over the limits: only the API is served
  std::size_t admin_heals_per_window = 10;
  std::chrono::steady_clock::duration admin_heal_window = std::chrono::minutes{1};
  std::size_t max_reason_length = 1000;
  std::string version;  // shown in /health; empty: the build's version
};

// The one place that maps the engine's answer to POST /heal onto HTTP: 200 with the heal's entries, or the
// refusal's status (unknown_subsystem 404, heal_in_progress, dependency_critical and no_heal_actions 409,
// platform_cap_full 503 with Retry-After, audit_write_failed 500).
[[nodiscard]] http_response heal_outcome_response(const manual_heal_outcome& outcome);

class router {
public:
  router(router_context context, router_options options);

  // Answers every request; nothing a client sends makes it throw. The server turns an exception that escapes
  // anyway (a bug) into a 500.
  [[nodiscard]] boost::asio::awaitable<http_response> handle(http_request request);

  // The dashboard's files, loaded by the constructor; the daemon reloads them on SIGHUP.
  [[nodiscard]] const std::shared_ptr<static_site_store>& site() const noexcept { return site_; }
  [[nodiscard]] std::uint64_t renders_for_test() const;

private:
  [[nodiscard]] http_response route(const http_request& request, const parsed_target& target);
  [[nodiscard]] http_response platform_route(const http_request& request, const parsed_target& target,
                                             std::string_view rest);
  [[nodiscard]] boost::asio::awaitable<http_response> heal(http_request request, std::string subsystem);
  // Auth, body, subsystem, engine and rate checks of POST /heal, in that order: the refusal, or nullopt with
  // `reason` filled in when the heal may go ahead.
  [[nodiscard]] std::optional<http_response> admit_heal(const http_request& request, const std::string& subsystem,
                                                        std::string& reason);
  [[nodiscard]] http_response health(const http_request& request);
  [[nodiscard]] http_response circuit_breakers(const http_request& request);
  [[nodiscard]] http_response healing_log(const http_request& request, const parsed_target& target);
  [[nodiscard]] http_response subsystem(const http_request& request, std::string_view encoded_name);
  [[nodiscard]] http_response metrics() const;
  [[nodiscard]] http_response readyz() const;
  [[nodiscard]] http_response static_file(const http_request& request, const parsed_target& target) const;

  router_context context_;
  router_options options_;
  cors_policy cors_;
  std::shared_ptr<static_site_store> site_;
  sliding_window_limiter admin_heals_;
  document_cache<state_version> platform_documents_;
  document_cache<std::uint64_t> log_documents_;  // keyed by query, versioned by the log's last id
};

}  // namespace healthd::api
