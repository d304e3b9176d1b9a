#pragma once
// The API over real HTTP on 127.0.0.1: the test platform, its router and an http_server on a free port (port 0),
// run by I/O threads of the fixture's own. The destructor shuts the server down and joins the threads even when a
// test failed.

#include "healthd/api/router.hpp"
#include "healthd/api/server.hpp"

#include "support/http_test_client.hpp"
#include "unit/api/api_test_platform.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <future>
#include <thread>
#include <vector>

namespace healthd::test {

inline constexpr const char* admin_token = "integration-token";

class api_server {
public:
  explicit api_server(api::server_options options = {}, api::router_options router_options = default_router(),
                      int threads = 2)
      : router_(platform.context(), std::move(router_options)),
        server_(io_.get_executor(), with_free_port(std::move(options)), handler(), &platform.metrics) {
    server_.start();
    for (int i = 0; i < threads; ++i)
      threads_.emplace_back([this] { io_.run(); });
  }

  // A platform of its own config (e.g. heal actions and probe timeouts for deadline tests).
  // Three arguments, none defaulted, so that `api_server({}, {})` still means the constructor above.
  api_server(api::router_options router_options, config::daemon_config platform_config, int threads)
      : platform(std::move(platform_config)),
        router_(platform.context(), std::move(router_options)),
        server_(io_.get_executor(), with_free_port({}), handler(), &platform.metrics) {
    server_.start();
    for (int i = 0; i < threads; ++i)
      threads_.emplace_back([this] { io_.run(); });
  }

  ~api_server() {
    if (!stopped_) (void)shutdown(std::chrono::seconds{10});
    io_.stop();
    threads_.clear();
  }

  api_server(const api_server&) = delete;
  api_server& operator=(const api_server&) = delete;

  [[nodiscard]] std::uint16_t port() const { return server_.port(); }
  [[nodiscard]] api::http_server& server() { return server_; }
  [[nodiscard]] api::router& router() { return router_; }

  // Starts the graceful shutdown; the future is ready when it completed.
  std::future<void> begin_shutdown() {
    stopped_ = true;
    return boost::asio::co_spawn(io_, server_.shutdown(), boost::asio::use_future);
  }

  // Shuts down and waits at most `limit`; true when the shutdown completed in time.
  bool shutdown(std::chrono::milliseconds limit) {
    return begin_shutdown().wait_for(limit) == std::future_status::ready;
  }

  static api::router_options default_router() {
    api::router_options options;
    options.admin_token = admin_token;
    return options;
  }

  // Wraps the router; a test may make it throw for a target to exercise the server's last-resort 500.
  std::string throw_on_target;

  api_test_platform platform;

private:
  static api::server_options with_free_port(api::server_options options) {
    options.host = "127.0.0.1";
    options.port = 0;
    return options;
  }

  api::request_handler handler() {
    return [this](api::http_request request) -> boost::asio::awaitable<api::http_response> {
      if (!throw_on_target.empty() && request.target == throw_on_target) throw std::runtime_error("test bug");
      auto pending = router_.handle(std::move(request));  // bound first: GCC 12 and temporaries across co_await
      co_return co_await std::move(pending);
    };
  }

  boost::asio::io_context io_;
  api::router router_;
  api::http_server server_;
  std::vector<std::jthread> threads_;
  bool stopped_ = false;
};

}  // namespace healthd::test
