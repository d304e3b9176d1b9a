#pragma once
// A small platform for API tests, built from config structs (no config file): breakers `database` and `redis`,
// subsystems `database` (critical), `redis` (depends on database) and `websocket` (no breaker); a healing log, the
// platform state on a manual clock, and a fake heal service. Shared by the unit and the integration tests.

#include "healthd/api/metrics.hpp"
#include "healthd/api/router.hpp"
#include "healthd/breaker/breaker_registry.hpp"
#include "healthd/config/config.hpp"
#include "healthd/engine/heal_service.hpp"
#include "healthd/engine/platform_state.hpp"
#include "healthd/healing_log/healing_log.hpp"

#include "support/manual_clock.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>

namespace healthd::test {

inline config::daemon_config api_test_config() {
  config::daemon_config c;
  config::breaker_config database;
  database.name = "database";
  config::breaker_config redis;
  redis.name = "redis";
  redis.failure_threshold = 2;
  c.breakers = {database, redis};
  config::subsystem_config db;
  db.name = "database";
  db.description = "PostgreSQL";
  db.critical = true;
  db.breaker = "database";
  config::subsystem_config cache;
  cache.name = "redis";
  cache.description = "Redis cache";
  cache.breaker = "redis";
  cache.depends_on = {"database"};
  config::subsystem_config ws;
  ws.name = "websocket";
  ws.description = "Live updates";
  ws.loop = "integrations";
  c.subsystems = {db, cache, ws};
  return c;
}

// Answers POST /heal the way a test says: after `delay` (a timer on the caller's executor, so it can be in flight
// during shutdown), with `answer(request)`, or by default a successful heal that appends one entry to the log.
class fake_heal_service final : public heal_service {
public:
  explicit fake_heal_service(healing_log& log) : log_(log) {}

  boost::asio::awaitable<manual_heal_outcome> heal(manual_heal_request request) override {
    ++started;
    std::chrono::milliseconds wait;
    std::function<manual_heal_outcome(const manual_heal_request&)> custom;
    std::function<void(const manual_heal_request&)> at_start;
    {
      std::lock_guard lock(mutex_);
      wait = delay_;
      custom = answer_;
      at_start = on_start_;
    }
    if (at_start) at_start(request);
    if (wait.count() > 0) {
      boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
      timer.expires_after(wait);
      co_await timer.async_wait(boost::asio::use_awaitable);
    }
    ++finished;
    if (custom) co_return custom(request);
    healing_entry entry;
    entry.subsystem = request.subsystem;
    entry.action = "reconnect";
    entry.trigger = heal_trigger::manual;
    entry.result = heal_result::success;
    entry.detail = request.reason;
    entry.platform_status = health_status::healthy;
    manual_heal_done done;
    done.subsystem = request.subsystem;
    done.result = heal_result::success;
    done.entries = {log_.append(entry)};
    done.status = health_status::healthy;
    co_return done;
  }

  void set_delay(std::chrono::milliseconds d) {
    std::lock_guard lock(mutex_);
    delay_ = d;
  }
  // Runs as the heal starts, before the delay: e.g. to write an entry the way a heal's first action does.
  void set_on_start(std::function<void(const manual_heal_request&)> f) {
    std::lock_guard lock(mutex_);
    on_start_ = std::move(f);
  }
  void set_answer(std::function<manual_heal_outcome(const manual_heal_request&)> f) {
    std::lock_guard lock(mutex_);
    answer_ = std::move(f);
  }

  std::atomic<int> started{0};
  std::atomic<int> finished{0};

private:
  healing_log& log_;
  std::mutex mutex_;
  std::chrono::milliseconds delay_{0};
  std::function<manual_heal_outcome(const manual_heal_request&)> answer_;
  std::function<void(const manual_heal_request&)> on_start_;
};

struct api_test_platform {
  explicit api_test_platform(config::daemon_config c = api_test_config(), std::size_t log_capacity = 20)
      : config(std::make_shared<const config::daemon_config>(std::move(c))),
        breakers(std::make_shared<breaker_registry>(config->breakers)),
        log(log_capacity),
        state(config, breakers, clock.now().wall),
        heal(log) {}

  // The router's view of this platform; `with_engine` false leaves the heal service out (503 engine_unavailable).
  [[nodiscard]] api::router_context context(bool with_engine = true) {
    return {state, *breakers, log, clock, metrics, with_engine ? &heal : nullptr, [this] { return daemon; }};
  }

  void probe(std::string_view subsystem, probe_status status, double latency_ms = 1.5, std::string message = "ok") {
    probe_result result;
    result.status = status;
    result.latency = millis_d{latency_ms};
    result.message = std::move(message);
    state.record_probe(subsystem, result, clock.now().wall);
  }

  void probe_all_healthy() {
    for (const auto& s : config->subsystems)
      probe(s.name, probe_status::healthy);
  }

  manual_clock clock;
  std::shared_ptr<const config::daemon_config> config;
  std::shared_ptr<breaker_registry> breakers;
  healing_log log;
  platform_state state;
  api::http_metrics metrics;
  api::daemon_counters daemon;
  fake_heal_service heal;
};

}  // namespace healthd::test
