#include "healthd/app/daemon.hpp"

#include "healthd/api/auth.hpp"
#include "healthd/api/metrics.hpp"
#include "healthd/api/router.hpp"
#include "healthd/api/server.hpp"
#include "healthd/api/static_files.hpp"
#include "healthd/app/server_options.hpp"
#include "healthd/breaker/breaker_registry.hpp"
#include "healthd/config/loader.hpp"
#include "healthd/core/clock.hpp"
#include "healthd/core/exception_text.hpp"
#include "healthd/engine/audit_file.hpp"
#include "healthd/engine/engine.hpp"
#include "healthd/engine/heal_service.hpp"
#include "healthd/engine/platform_state.hpp"
#include "healthd/healing_log/healing_log.hpp"
#include "healthd/io/blocking_pool.hpp"
#include "healthd/version.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

namespace healthd::app {

namespace net = boost::asio;

namespace {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

// What the engine hands to the rest of the daemon.
struct engine_hooks {
  heal_service* heal = nullptr;         // POST /heal; null: 503 engine_unavailable
  std::function<bool()> loops_on_time;  // systemd watchdog pings only while this holds; empty: always
  std::function<void()> stop;           // on shutdown, before the HTTP server drains
};

// sd_notify is a no-op outside systemd (no NOTIFY_SOCKET).
void notify_systemd(const char* state) { (void)sd_notify(0, state); }

void log_failure(std::string_view what, const std::exception_ptr& e) {
  if (e) spdlog::error("{} failed: {}", what, exception_text(e));
}

// Pings the systemd watchdog at half its interval, skipping pings while the engine's loops lag so that systemd
// restarts a wedged daemon.
net::awaitable<void> feed_watchdog(net::steady_timer& timer, std::chrono::microseconds interval,
                                   std::function<bool()> loops_on_time) {
  bool lagging = false;
  for (;;) {
    timer.expires_after(interval / 2);
    const auto [ec] = co_await timer.async_wait(use_tuple);
    if (ec) co_return;
    const bool on_time = !loops_on_time || loops_on_time();
    if (on_time) notify_systemd("WATCHDOG=1");
    if (on_time == lagging) {
      if (on_time)
        spdlog::info("health loops on time again; watchdog pings resumed");
      else
        spdlog::warn("health loops are late; withholding watchdog pings");
    }
    lagging = !on_time;
  }
}

// The running config and the outcomes of SIGHUP reloads (for /metrics); shared with the reload job on the pool.
struct reload_state {
  explicit reload_state(std::shared_ptr<const config::daemon_config> c) : current(std::move(c)) {}

  void record(bool ok) {
    (ok ? applied : rejected).fetch_add(1);
    last_ok.store(ok);
  }

  // Called at shutdown: waits for a reload in progress; none runs afterwards.
  void close() {
    std::lock_guard lock(mutex);
    closed = true;
  }

  std::mutex mutex;  // one reload at a time; guards `current` and `closed`
  std::shared_ptr<const config::daemon_config> current;
  bool closed = false;
  std::atomic<std::uint64_t> applied{0};
  std::atomic<std::uint64_t> rejected{0};
  std::atomic<bool> last_ok{true};
};

// The objects the shutdown sequence touches; all live in run_daemon's frame, which outlives io.run().
struct shutdown_plan {
  net::io_context& io;
  net::signal_set& signals;
  net::steady_timer& watchdog;
  api::http_server& server;
  std::function<void()> stop_engine;
};

net::awaitable<void> shut_down_on_signal(shutdown_plan plan) {
  const auto [ec, signo] = co_await plan.signals.async_wait(use_tuple);
  if (!ec) spdlog::info("received signal {}, shutting down", signo);
  notify_systemd("STOPPING=1");
  plan.watchdog.cancel();
  if (plan.stop_engine) plan.stop_engine();
  co_await plan.server.shutdown();
  plan.io.stop();
}

// Reads the running static_dir again (server.static_dir itself changes only on restart): the new files replace the
// served ones as a whole, or the refusal is logged and the served ones stay.
void reload_dashboard(api::static_site_store& dashboard) {
  if (dashboard.root().empty()) return;
  try {
    const auto report = dashboard.load();
    if (report.replaced) {
      spdlog::info("dashboard reloaded: {}", report.message);
    } else {
      spdlog::error("dashboard reload refused: {}", report.message);
    }
  } catch (const std::exception& e) {
    spdlog::error("dashboard reload failed, keeping the served files: {}", e.what());
  }
}

// Reads, validates and applies the config file, then reloads the dashboard, and logs the outcomes. Blocking: runs
// on the pool, since building the new probes and actions may load CA bundles and the dashboard is read from disk.
void reload_config(const daemon_options& options, const std::weak_ptr<engine>& weak_engine, reload_state& state,
                   api::static_site_store& dashboard) {
  std::lock_guard lock(state.mutex);
  const auto eng = weak_engine.lock();
  if (state.closed || !eng) return;
  try {
    auto next = std::make_shared<const config::daemon_config>(load_effective_config(options));
    if (!(next->server == state.current->server)) spdlog::warn("server.* changed: restart required to apply it");
    if (!(next->healing_log == state.current->healing_log)) {
      spdlog::warn("healing_log.* changed: restart required to apply it");
    }
    eng->apply_config(next);
    state.current = std::move(next);
    state.record(true);
    spdlog::info("config reloaded: {} subsystems, healing {}", state.current->subsystems.size(),
                 config::to_string(state.current->healing.mode));
  } catch (const std::exception& e) {
    spdlog::error("reload rejected, keeping the running config: {}", e.what());
    state.record(false);
  }
  reload_dashboard(dashboard);
}

// One reload on the blocking pool (reading the file and building probes may block on file I/O).
struct reload_job {
  reload_job(daemon_options o, std::weak_ptr<engine> e, std::shared_ptr<reload_state> s,
             std::shared_ptr<api::static_site_store> d)
      : options(std::move(o)), eng(std::move(e)), state(std::move(s)), dashboard(std::move(d)) {}
  void run() { reload_config(options, eng, *state, *dashboard); }
  daemon_options options;
  std::weak_ptr<engine> eng;
  std::shared_ptr<reload_state> state;
  std::shared_ptr<api::static_site_store> dashboard;
};

// SIGHUP: re-read the config; apply what can change live, keep the running config when the new one is invalid.
// The job holds the engine only while it applies a config; shutdown waits for that (reload_state::close).
net::awaitable<void> reload_on_sighup(net::signal_set& hup, daemon_options options, std::weak_ptr<engine> eng,
                                      std::shared_ptr<reload_state> state, std::shared_ptr<io::blocking_pool> pool,
                                      std::shared_ptr<api::static_site_store> dashboard) {
  constexpr auto reload_timeout = std::chrono::seconds(30);
  for (;;) {
    const auto [ec, signo] = co_await hup.async_wait(use_tuple);
    if (ec) co_return;
    spdlog::info("SIGHUP: reloading {}", options.config_file.string());
    auto job = std::make_shared<reload_job>(options, eng, state, dashboard);
    switch (co_await io::run_job(*pool, "config-reload", reload_timeout, job)) {
      case io::job_outcome::done: break;
      case io::job_outcome::busy: spdlog::warn("SIGHUP ignored: the previous reload is still running"); break;
      case io::job_outcome::timeout:
        spdlog::warn("reload still running after {} s; its outcome is logged when it ends", reload_timeout.count());
        break;
      case io::job_outcome::expired:
        spdlog::error("reload rejected, keeping the running config: no worker free within {} s",
                      reload_timeout.count());
        state->record(false);
        break;
    }
  }
}

}  // namespace

config::daemon_config load_effective_config(const daemon_options& options) {
  auto cfg = config::load_config_file(options.config_file);
  if (options.listen_override) {
    if (!config::parse_listen_address(*options.listen_override)) {
      throw config::config_error("--listen", "expected HOST:PORT with a port in 1..65535");
    }
    cfg.server.listen = *options.listen_override;
  }
  return cfg;
}

std::string describe_config(const config::daemon_config& cfg) {
  std::ostringstream out;
  out << "config OK: " << cfg.subsystems.size() << " subsystems, " << cfg.breakers.size() << " breakers, "
      << cfg.loops.size() << " loops; listening on " << cfg.server.listen << "; healing "
      << config::to_string(cfg.healing.mode) << "\n";
  for (const auto& loop : cfg.loops) {
    out << "loop " << loop.name << " every " << loop.interval_s << " s:";
    for (const auto& s : cfg.subsystems) {
      if (s.loop == loop.name) out << ' ' << s.name;
    }
    out << '\n';
  }
  for (const auto& s : cfg.subsystems) {
    out << "  " << s.name << ": probe " << s.probe.type << " (timeout " << s.probe.timeout_ms << " ms)"
        << ", breaker " << s.breaker.value_or("none") << (s.critical ? ", critical" : "") << ", "
        << s.heal.actions.size() << " heal action" << (s.heal.actions.size() == 1 ? "" : "s") << '\n';
  }
  return out.str();
}

int run_daemon(const daemon_options& options) {
  // A peer closing a connection must be an error on that connection, never the end of the daemon: hiredis writes
  // with plain write(2), which raises SIGPIPE on a socket Redis has closed.
  (void)std::signal(SIGPIPE, SIG_IGN);
  std::shared_ptr<const config::daemon_config> cfg;
  api::server_options server_options;
  std::optional<std::string> admin_token;
  try {
    cfg = std::make_shared<const config::daemon_config>(load_effective_config(options));
    server_options = server_options_from(cfg->server);
    admin_token = api::load_admin_token(cfg->server, config::process_env);
  } catch (const config::config_error& e) {
    spdlog::error("invalid config {}: {}", options.config_file.string(), e.what());
    return exit_config_error;
  } catch (const api::admin_token_error& e) {
    spdlog::error("invalid config {}: {}", options.config_file.string(), e.what());
    return exit_config_error;
  }
  // Before the pool, the probes and the server open descriptors: the server's connection cap is measured from it.
  server_options.open_file_limit = raise_open_file_limit();
  spdlog::info("platform-healthd {} starting with {}", version_string, options.config_file.string());
  std::istringstream description(describe_config(*cfg));
  for (std::string line; std::getline(description, line);)
    spdlog::info("{}", line);

  const system_clock clock;
  auto breakers = std::make_shared<breaker_registry>(cfg->breakers);
  auto log = std::make_shared<healing_log>(static_cast<std::size_t>(cfg->healing_log.capacity));
  auto state = std::make_shared<platform_state>(cfg, breakers, clock.now().wall);
  // Blocking library calls: one thread per subsystem (a stuck dependency holds at most one) plus room for heal
  // actions and reloads. Audit writes have their own thread (audit_file).
  auto pool = std::make_shared<io::blocking_pool>(std::min<std::size_t>(cfg->subsystems.size() + 4, 32));

  std::shared_ptr<audit_file> audit;
  if (cfg->healing_log.audit_file) {
    const auto loaded = audit_file::load(*cfg->healing_log.audit_file, log->capacity());
    for (const auto& warning : loaded.warnings)
      spdlog::warn("audit file: {}", warning);
    log->restore(loaded.entries);
    try {
      audit = std::make_shared<audit_file>(*cfg->healing_log.audit_file, cfg->healing_log.audit_max_bytes);
    } catch (const std::exception& e) {
      spdlog::error("{}", e.what());
      return exit_failure;
    }
    spdlog::info("audit file {}: {} entries restored ({} bytes of its tail read), next id {}",
                 *cfg->healing_log.audit_file, loaded.entries.size(), loaded.bytes_read, log->last_id() + 1);
  }

  const int threads = std::max(cfg->server.threads, 1);
  net::io_context io(threads);

  std::shared_ptr<engine> health_engine;
  try {
    health_engine = std::make_shared<engine>(
        engine_dependencies{io.get_executor(), breakers, log, state, pool, audit, &clock}, cfg);
  } catch (const std::exception& e) {
    spdlog::error("invalid config {}: {}", options.config_file.string(), e.what());
    return exit_config_error;
  }
  const engine_hooks hooks{health_engine.get(), [&health_engine] { return health_engine->loops_on_time(); },
                           [&health_engine] { health_engine->stop(); }};

  api::http_metrics http_metrics;
  auto reloads = std::make_shared<reload_state>(cfg);
  auto read_counters = [&health_engine, reloads] {
    const auto e = health_engine->counters();
    return api::daemon_counters{.probes_run = e.probes_run,
                                .probes_rejected = e.probes_rejected,
                                .watch_wakeups = e.watch_wakeups,
                                .audit_write_failures = e.audit_write_failures,
                                .reloads_applied = reloads->applied.load(),
                                .reloads_rejected = reloads->rejected.load(),
                                .last_reload_ok = reloads->last_ok.load()};
  };
  api::router router({*state, *breakers, *log, clock, http_metrics, hooks.heal, read_counters},
                     {.admin_token = std::move(admin_token),
                      .cors_origins = cfg->server.cors_origins,
                      .static_dir = cfg->server.static_dir});
  api::http_server server(
      io.get_executor(), server_options, [&router](api::http_request r) { return router.handle(std::move(r)); },
      &http_metrics);
  try {
    server.start();
  } catch (const std::exception& e) {
    spdlog::error("cannot serve HTTP: {}", e.what());
    return exit_failure;
  }
  spdlog::info("listening on {} (port {}), {} I/O thread{}, at most {} connections", cfg->server.listen, server.port(),
               threads, threads == 1 ? "" : "s", server.connection_limit());

  net::signal_set signals(io, SIGTERM, SIGINT);
  net::steady_timer watchdog(io);
  std::uint64_t watchdog_usec = 0;
  if (sd_watchdog_enabled(0, &watchdog_usec) > 0 && watchdog_usec > 0) {
    net::co_spawn(io, feed_watchdog(watchdog, std::chrono::microseconds(watchdog_usec), hooks.loops_on_time),
                  [](const std::exception_ptr& e) { log_failure("systemd watchdog", e); });
  }
  net::co_spawn(io, shut_down_on_signal({io, signals, watchdog, server, hooks.stop}),
                [&io](const std::exception_ptr& e) {
                  log_failure("shutdown", e);
                  io.stop();
                });
  net::signal_set hup(io, SIGHUP);
  net::co_spawn(io, reload_on_sighup(hup, options, health_engine, reloads, pool, router.site()),
                [](const std::exception_ptr& e) { log_failure("config reload", e); });
  health_engine->start();
  notify_systemd("READY=1");

  std::vector<std::jthread> io_threads;
  for (int i = 1; i < threads; ++i)
    io_threads.emplace_back([&io] { io.run(); });
  io.run();
  io_threads.clear();
  // Writes what is still queued while the I/O context its completions are posted to still exists.
  if (audit) audit->stop();
  reloads->close();
  spdlog::info("platform-healthd stopped");
  return exit_ok;
}

}  // namespace healthd::app
