#include "probe_support.hpp"

#include "healthd/probes/checks.hpp"
#include "healthd/probes/registry.hpp"

#include <spdlog/spdlog.h>

#include <cmath>

namespace healthd::probes::detail {

namespace asio = boost::asio;

void throw_options_mismatch(const std::string& type) {
  throw probe_config_error("probe type \"" + type + "\": options do not match the type");
}

void throw_config_error(const std::string& type, const std::string& message) {
  throw probe_config_error("probe type \"" + type + "\": " + message);
}

blocking_pool& require_pool(const config::probe_config& config, const probe_context& context) {
  if (context.pool == nullptr) throw_config_error(config.type, "needs a blocking_pool in its probe_context");
  return *context.pool;
}

std::string timeout_message(int timeout_ms) { return "timeout after " + std::to_string(timeout_ms) + " ms"; }

probe_result finish(probe_result result, const stopwatch& watch, const config::probe_config& config,
                    const secret_set& secrets) {
  result.latency = watch.elapsed();
  if (result.status == probe_status::healthy && config.degraded_latency_ms > 0 &&
      result.latency.count() > config.degraded_latency_ms) {
    result.status = probe_status::degraded;
    result.message += (result.message.empty() ? "" : "; ") + std::string("slow: ") +
                      std::to_string(std::lround(result.latency.count())) + " ms > " +
                      std::to_string(config.degraded_latency_ms) + " ms";
  }
  result.message = secrets.sanitize(result.message);
  result.details = sanitize_json(result.details, secrets);
  return result;
}

void log_background_failure(const char* what, const std::exception_ptr& error) noexcept {
  if (!error) return;
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    spdlog::warn("probes: {} failed: {}", what, e.what());
  } catch (...) {
    spdlog::warn("probes: {} failed", what);
  }
}

probe_result worker_busy() {
  probe_result result;
  result.status = probe_status::critical;
  result.message = std::string(worker_busy_message);
  result.started = false;
  return result;
}

probe_result critical(std::string message, nlohmann::json details) {
  probe_result result;
  result.status = probe_status::critical;
  result.message = std::move(message);
  result.details = std::move(details);
  return result;
}

asio::awaitable<resolve_result> resolve_within(asio::any_io_executor executor, std::string host, std::uint16_t port,
                                               std::chrono::steady_clock::time_point deadline) {
  return io::resolve_within(std::move(executor), std::move(host), port, deadline);
}

}  // namespace healthd::probes::detail
