#include "healthd/app/daemon.hpp"

#include "healthd/breaker/breaker_registry.hpp"
#include "healthd/config/loader.hpp"
#include "healthd/core/clock.hpp"
#include "healthd/engine/platform_state.hpp"
#include "healthd/healing_log/healing_log.hpp"
#include "healthd/version.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include <charconv>
#include <csignal>
#include <memory>
#include <ranges>
#include <sstream>

namespace healthd::app {

namespace {

bool valid_listen(std::string_view listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  int port = 0;
  const auto digits = listen.substr(colon + 1);
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  return ec == std::errc{} && ptr == digits.data() + digits.size() && port >= 1 && port <= 65535;
}

}  // namespace

config::daemon_config load_effective_config(const daemon_options& options) {
  auto cfg = config::load_config_file(options.config_file);
  if (options.listen_override) {
    if (!valid_listen(*options.listen_override)) {
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
  std::shared_ptr<const config::daemon_config> cfg;
  try {
    cfg = std::make_shared<const config::daemon_config>(load_effective_config(options));
  } catch (const config::config_error& e) {
    spdlog::error("invalid config {}: {}", options.config_file.string(), e.what());
    return exit_config_error;
  }
  spdlog::info("platform-healthd {} starting with {}", version_string, options.config_file.string());
  for (const auto& line : describe_config(*cfg) | std::views::split('\n')) {
    if (!line.empty()) spdlog::info("{}", std::string_view(line.begin(), line.end()));
  }

  const system_clock clock;
  auto breakers = std::make_shared<breaker_registry>(cfg->breakers);
  healing_log log(static_cast<std::size_t>(cfg->healing_log.capacity));
  platform_state state(cfg, breakers, clock.now().wall);

  boost::asio::io_context io;
  boost::asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (!ec) spdlog::info("received signal {}, shutting down", signo);
    io.stop();
  });
  io.run();
  spdlog::info("platform-healthd stopped");
  return exit_ok;
}

}  // namespace healthd::app
