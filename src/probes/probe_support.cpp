#include "probe_support.hpp"

#include "healthd/io/text.hpp"
#include "healthd/probes/registry.hpp"

#include <cmath>

namespace healthd::probes::detail {

void throw_options_mismatch(const std::string& type) {
  throw probe_config_error("probe type \"" + type + "\": options do not match the type");
}

void throw_config_error(const std::string& type, const std::string& message) {
  throw probe_config_error("probe type \"" + type + "\": " + message);
}

io::blocking_pool& require_pool(const config::probe_config& config, const probe_context& context) {
  if (context.pool == nullptr) throw_config_error(config.type, "needs a blocking_pool in its probe_context");
  return *context.pool;
}

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

std::string timeout_message(int timeout_ms) { return io::timeout_message(std::chrono::milliseconds(timeout_ms)); }

std::optional<probe_result> pool_failure(io::job_outcome outcome, const config::probe_config& config) {
  if (outcome == io::job_outcome::busy) return worker_busy();
  auto message = io::failure_message(outcome, std::chrono::milliseconds(config.timeout_ms), "probe");
  if (!message) return std::nullopt;
  return critical(std::move(*message));
}

std::shared_ptr<const io::tls_context> tls_for(const io::parsed_url& url, const std::string& type,
                                               const io::tls_options& options) {
  if (!url.tls()) return nullptr;
  try {
    return io::make_tls_context(options);
  } catch (const io::tls_context_error& e) {
    throw_config_error(type, e.what());
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

}  // namespace healthd::probes::detail
