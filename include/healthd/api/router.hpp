#pragma once
// The HTTP API's routes (docs/api.md): /api/v1/platform/*, /metrics, /livez, /readyz and the static dashboard,
// declared once in a route table (router.cpp): method + pattern -> handler and metrics label. A path no pattern
// matches is 404 (or, outside /api/, the static dashboard); a path matched with another method is 405 with an
// Allow header derived from the table. GET handlers are synchronous and do no I/O; a handler that awaits runs
// under a deadline. Routing works on http_request/http_response only (no sockets), so every route is unit-tested
// directly.
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
#include <span>
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
  // Added to a manual heal's own deadline (its action's and verification probe's timeouts, see heal_deadline).
  std::chrono::milliseconds heal_deadline_margin{2000};
};

// How long POST /heal/{subsystem} waits for the heal before answering 504 heal_timeout: the longest timeout of the
// subsystem's heal actions (the ladder's current rung is one of them) plus its probe's timeout (the verification)
// plus `margin`.
[[nodiscard]] std::chrono::milliseconds heal_deadline(const config::subsystem_config& subsystem,
                                                      std::chrono::milliseconds margin);

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

  // A row of the route table: a handler is either synchronous (GET: no I/O, nothing awaited) or awaiting (runs
  // under a deadline of its own). `param` is the pattern's {placeholder} segment, still percent-encoded.
  using sync_handler = http_response (router::*)(const http_request&, const parsed_target&, std::string_view param);
  using awaiting_handler = boost::asio::awaitable<http_response> (router::*)(http_request, std::string param);
  struct route;
  // The route table (router.cpp), in match order.
  [[nodiscard]] static std::span<const route> routes();

private:
  // The table's fallback for a path no pattern matches: 404 under /api/, else the static dashboard.
  [[nodiscard]] http_response unmatched(const http_request& request, const parsed_target& target);
  [[nodiscard]] boost::asio::awaitable<http_response> heal(http_request request, std::string encoded_subsystem);
  // Auth, body, subsystem, engine and rate checks of POST /heal, in that order: the refusal, or nullopt with
  // `reason` filled in when the heal may go ahead.
  [[nodiscard]] std::optional<http_response> admit_heal(const http_request& request, const std::string& subsystem,
                                                        std::string& reason);
  [[nodiscard]] http_response health(const http_request& request, const parsed_target&, std::string_view);
  [[nodiscard]] http_response circuit_breakers(const http_request& request, const parsed_target&, std::string_view);
  [[nodiscard]] http_response healing_log(const http_request& request, const parsed_target& target, std::string_view);
  [[nodiscard]] http_response subsystem(const http_request& request, const parsed_target&,
                                        std::string_view encoded_name);
  [[nodiscard]] http_response metrics(const http_request&, const parsed_target&, std::string_view);
  [[nodiscard]] http_response livez(const http_request&, const parsed_target&, std::string_view);
  [[nodiscard]] http_response readyz(const http_request&, const parsed_target&, std::string_view);
  [[nodiscard]] http_response root(const http_request&, const parsed_target&, std::string_view);
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
