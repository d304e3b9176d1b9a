// tcp: connect within the deadline (name resolution included), then close.

#include "healthd/io/resolver.hpp"
#include "healthd/probes/probe.hpp"

#include "probe_support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace healthd::probes::detail {

namespace {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

class tcp_check final : public probe {
public:
  tcp_check(const config::probe_config& config, const probe_context& context)
      : config_(config),
        options_(options_as<config::tcp_probe>(config)),
        strand_(asio::make_strand(context.executor)),
        secrets_(context.secrets) {
    if (options_.host.empty()) throw_config_error(config.type, "host is empty");
    if (options_.port <= 0 || options_.port > 65535) throw_config_error(config.type, "port out of range");
  }

  asio::awaitable<probe_result> run() override {
    co_return co_await asio::co_spawn(strand_, run_on_strand(), asio::use_awaitable);
  }

private:
  asio::awaitable<probe_result> run_on_strand() {
    const stopwatch watch;
    const auto deadline = watch.start() + std::chrono::milliseconds(config_.timeout_ms);
    co_return finish(co_await connect(deadline), watch, config_, secrets_);
  }

  asio::awaitable<probe_result> connect(std::chrono::steady_clock::time_point deadline) {
    auto executor = co_await asio::this_coro::executor;
    auto resolved =
        co_await io::resolve_within(executor, options_.host, static_cast<std::uint16_t>(options_.port), deadline);
    if (resolved.timed_out) co_return critical(timeout_message(config_.timeout_ms));
    if (!resolved.error.empty()) co_return critical(resolved.error);

    asio::ip::tcp::socket socket(executor);
    asio::steady_timer timer(executor, deadline);
    boost::system::error_code last;
    for (const auto& endpoint : resolved.endpoints) {
      auto outcome = co_await (socket.async_connect(endpoint, asio::as_tuple(asio::use_awaitable)) ||
                               timer.async_wait(asio::as_tuple(asio::use_awaitable)));
      if (outcome.index() == 1) co_return critical(timeout_message(config_.timeout_ms));
      last = std::get<0>(std::get<0>(outcome));
      if (!last) {
        probe_result result;
        result.status = probe_status::healthy;
        result.message = "connected to " + endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
        result.details = {{"address", endpoint.address().to_string()}, {"port", endpoint.port()}};
        co_return result;
      }
      boost::system::error_code ignored;
      socket.close(ignored);
    }
    co_return critical("connect: " + last.message());
  }

  config::probe_config config_;
  config::tcp_probe options_;
  asio::strand<asio::any_io_executor> strand_;
  secret_set secrets_;
};

}  // namespace

std::unique_ptr<probe> make_tcp_probe(const config::probe_config& config, const probe_context& context) {
  return std::make_unique<tcp_check>(config, context);
}

}  // namespace healthd::probes::detail
