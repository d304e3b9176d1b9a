#pragma once
// The HTTP/1.1 server: Beast over Asio with C++20 coroutines, one strand per connection, hard limits and a deadline
// on every read and write, so that no client (slow, silent or hostile) can hold a thread or grow memory. Beast stays
// inside src/api/server.cpp; this header only needs Asio's executor.
//
// Thread safety: start(), port() and connection_limit() from one thread; shutdown() once. The server's internals are
// reference-counted, so connections still queued on the executor when the server is destroyed do not dangle; the
// handler must outlive the executor's run, though.

#include "healthd/api/http_message.hpp"
#include "healthd/api/metrics.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace healthd::api {

struct server_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: any free port (tests); port() tells which
  std::size_t max_connections = 10000;
  std::size_t header_limit = std::size_t{8} * 1024;  // request line and headers: beyond it 431
  std::size_t body_limit = std::size_t{64} * 1024;   // beyond it 413
  std::size_t target_limit = std::size_t{4} * 1024;  // request-target: beyond it 414
  std::chrono::milliseconds header_timeout{10'000};  // a request's header (and body) must arrive within this
  std::chrono::milliseconds idle_timeout{30'000};    // keep-alive: wait this long for the next request
  std::chrono::milliseconds write_timeout{10'000};
  std::chrono::milliseconds shutdown_grace{5'000};  // in-flight requests get this long to finish
  std::chrono::milliseconds accept_backoff{100};    // pause accepting after EMFILE/ENFILE
  // The process's soft RLIMIT_NOFILE, which caps the connections (connection_cap). The app raises and measures it
  // (app::raise_open_file_limit); unset, connections are capped by max_connections alone.
  std::optional<std::uint64_t> open_file_limit;
};

// The connection cap actually used: `configured`, but below the open-file limit with room for the daemon's other
// descriptors (probes, logs, the audit file): a tenth of the limit, at least 32 and at most 1024.
[[nodiscard]] std::size_t connection_cap(std::size_t configured, std::uint64_t open_file_limit) noexcept;

// Called for each request; returns the response. Exceptions become a 500.
using request_handler = std::function<boost::asio::awaitable<http_response>(http_request)>;

class http_server {
public:
  // `metrics` may be null. Nothing happens until start().
  http_server(boost::asio::any_io_executor executor, server_options options, request_handler handler,
              http_metrics* metrics = nullptr);
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  // Binds, listens and starts accepting on the executor. Throws std::system_error when
  // the address cannot be resolved or bound.
  void start();

  [[nodiscard]] std::uint16_t port() const;
  [[nodiscard]] std::size_t connection_limit() const;
  [[nodiscard]] std::size_t open_connections() const;

  // Graceful stop: stops accepting, closes idle connections, lets requests being handled finish and answer (with
  // `Connection: close`) for up to shutdown_grace, then cancels and closes what is left. Completes once every
  // connection has ended (or a second after the forced close). Safe to co_await from any executor.
  [[nodiscard]] boost::asio::awaitable<void> shutdown();

private:
  class impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace healthd::api
