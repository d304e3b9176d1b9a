#pragma once
// Internal to src/probes: the factories behind the registry and what every probe type shares.

#include "healthd/config/config.hpp"
#include "healthd/core/probe_result.hpp"
#include "healthd/core/secrets.hpp"
#include "healthd/io/blocking_pool.hpp"
#include "healthd/io/http_client.hpp"
#include "healthd/io/url.hpp"
#include "healthd/probes/probe.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace healthd::probes::detail {

std::unique_ptr<probe> make_postgres_probe(const config::probe_config& config, const probe_context& context);
std::unique_ptr<probe> make_redis_probe(const config::probe_config& config, const probe_context& context);
std::unique_ptr<probe> make_http_probe(const config::probe_config& config, const probe_context& context);
std::unique_ptr<probe> make_websocket_probe(const config::probe_config& config, const probe_context& context);
std::unique_ptr<probe> make_tcp_probe(const config::probe_config& config, const probe_context& context);
std::unique_ptr<probe> make_exec_probe(const config::probe_config& config, const probe_context& context);
std::unique_ptr<probe> make_file_probe(const config::probe_config& config, const probe_context& context);

[[noreturn]] void throw_options_mismatch(const std::string& type);
[[noreturn]] void throw_config_error(const std::string& type, const std::string& message);
io::blocking_pool& require_pool(const config::probe_config& config, const probe_context& context);

// The options of `config` as type T, or probe_config_error naming the type.
template <typename T>
const T& options_as(const config::probe_config& config) {
  const auto* options = std::get_if<T>(&config.options);
  if (options == nullptr) throw_options_mismatch(config.type);
  return *options;
}

// Steady-clock stopwatch for a probe's latency.
class stopwatch {
public:
  stopwatch() : start_(std::chrono::steady_clock::now()) {}
  [[nodiscard]] millis_d elapsed() const { return std::chrono::steady_clock::now() - start_; }
  [[nodiscard]] std::chrono::steady_clock::time_point start() const { return start_; }

private:
  std::chrono::steady_clock::time_point start_;
};

// "timeout after N ms" for a probe's timeout_ms (io::timeout_message).
[[nodiscard]] std::string timeout_message(int timeout_ms);
inline constexpr std::string_view worker_busy_message = "timeout (worker busy)";

// The last step of every run(): sets the latency, applies `degraded_latency_ms` (a healthy result slower than that
// becomes degraded and says so), redacts secrets from the message and details and makes them valid UTF-8: the one
// place every probe's text passes, whatever library or peer it came from.
[[nodiscard]] probe_result finish(probe_result result, const stopwatch& watch, const config::probe_config& config,
                                  const secret_set& secrets);

// "timeout (worker busy)": the subsystem's previous job is still stuck in the pool, so this probe did not start
// (`started` false: the breaker counts it as neither success nor failure).
[[nodiscard]] probe_result worker_busy();

// A blocking-pool job that did not run to its end, as the probe's result (nullopt for done): busy -> worker_busy();
// timeout or expired -> critical "timeout after N ms" (io::failure_message).
[[nodiscard]] std::optional<probe_result> pool_failure(io::job_outcome outcome, const config::probe_config& config);

// The TLS context a probe of `url` reuses for every run (none for http and ws), or probe_config_error naming the
// ca_file.
[[nodiscard]] std::shared_ptr<const io::tls_context> tls_for(const io::parsed_url& url, const std::string& type,
                                                             const io::tls_options& options);

[[nodiscard]] probe_result critical(std::string message, nlohmann::json details = nlohmann::json::object());

// A kept library connection (libpqxx, hiredis) shared by a probe and its blocking-pool jobs; outlives the probe
// while a job still runs. The job takes the connection out while it runs and puts it back unless a drop was asked.
template <typename Connection>
struct kept_session {
  std::mutex mutex;
  Connection connection;  // the kept connection; taken out by the job while it runs
  bool job_running = false;
  bool drop_requested = false;  // reconnect() while a job ran
  io::job_socket socket;
  void cancel() { socket.shutdown(); }
};

// Runs a job that uses `session` on the pool. nullopt when the job ran to its end (its answer is in the job); else
// the probe's result: worker busy while the session's previous job still runs (or its pool key is taken), "timeout
// after N ms" at the deadline.
template <typename Connection, io::pool_job Job>
[[nodiscard]] boost::asio::awaitable<std::optional<probe_result>> run_session_job(
    io::blocking_pool& pool, const std::string& key, const config::probe_config& config,
    const std::shared_ptr<kept_session<Connection>>& session, std::shared_ptr<Job> job) {
  {
    std::lock_guard lock(session->mutex);
    if (session->job_running) co_return worker_busy();
    session->job_running = true;
  }
  session->socket.reset_request();
  const auto outcome = co_await io::run_job(pool, key, std::chrono::milliseconds(config.timeout_ms), std::move(job));
  if (outcome == io::job_outcome::busy || outcome == io::job_outcome::expired) {
    // The job never ran, so it never cleared the flag itself.
    std::lock_guard lock(session->mutex);
    session->job_running = false;
  }
  co_return pool_failure(outcome, config);
}

}  // namespace healthd::probes::detail
