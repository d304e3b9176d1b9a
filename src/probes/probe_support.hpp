#pragma once
// Internal to src/probes: the factories behind the registry and what every probe type shares.

#include "healthd/config/config.hpp"
#include "healthd/core/probe_result.hpp"
#include "healthd/core/secrets.hpp"
#include "healthd/io/resolver.hpp"
#include "healthd/probes/probe.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
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
blocking_pool& require_pool(const config::probe_config& config, const probe_context& context);

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

[[nodiscard]] std::string timeout_message(int timeout_ms);
inline constexpr std::string_view worker_busy_message = "timeout (worker busy)";

// The last step of every run(): sets the latency, applies `degraded_latency_ms` (a healthy result slower than that
// becomes degraded and says so), redacts secrets from the message and details and makes them valid UTF-8: the one
// place every probe's text passes, whatever library or peer it came from.
[[nodiscard]] probe_result finish(probe_result result, const stopwatch& watch, const config::probe_config& config,
                                  const secret_set& secrets);

// Completion handler for background coroutines (reaping a child): logs an escaped exception, never rethrows into
// the I/O loop.
void log_background_failure(const char* what, const std::exception_ptr& error) noexcept;

// "timeout (worker busy)": the subsystem's previous job is still stuck in the pool, so this probe did not start
// (`started` false: the breaker counts it as neither success nor failure).
[[nodiscard]] probe_result worker_busy();

[[nodiscard]] probe_result critical(std::string message, nlohmann::json details = nlohmann::json::object());

// Host name resolution bounded by `deadline` (io::resolve_within: c-ares with the context's shared resolver). A
// numeric address is used as is; a lookup still running at the deadline is reported as a timeout at once. `executor`
// must be a strand or single-threaded.
using resolve_result = io::resolve_result;
[[nodiscard]] boost::asio::awaitable<resolve_result> resolve_within(boost::asio::any_io_executor executor,
                                                                    std::string host, std::uint16_t port,
                                                                    std::chrono::steady_clock::time_point deadline);

}  // namespace healthd::probes::detail
