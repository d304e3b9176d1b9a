#pragma once
// An async HTTP/1.1 and WebSocket client over Beast (TLS through OpenSSL), for the http and websocket probes and the
// http heal action. Beast and OpenSSL stay in src/io/http_client.cpp, the one translation unit that compiles them.
//
// Errors are values: `http_outcome::error` holds a short reason ("connect: Connection refused", "timeout after
// 2000 ms", "tls: certificate verify failed", "resolve: Host not found"), never an exception. The whole exchange
// (resolve, connect, TLS handshake, write, read) is bounded by `timeout`.
//
// TLS trust (the system CA store or a ca_file) is loaded once, by make_tls_context, where the config is loaded:
// reading a CA bundle takes tens of milliseconds, which would stall every coroutine on an I/O thread.

#include "healthd/core/clock.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace healthd::io {

struct tls_options {
  std::optional<std::string> ca_file;  // PEM bundle to trust instead of the system store
  bool insecure_skip_verify = false;   // no chain or host-name check (the certificate's expiry is still reported)
};

// OpenSSL's client context with its trust store loaded, and the options it was built from. Opaque; immutable once
// built, so one can be shared by any number of clients, requests and threads.
struct tls_context;

// A ca_file that cannot be read or holds no certificate (the message names the file), or a system store that
// cannot be loaded.
class tls_context_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// Loads the trust store (blocking file I/O: call it at config load, never on an I/O thread). Throws
// tls_context_error.
[[nodiscard]] std::shared_ptr<const tls_context> make_tls_context(const tls_options& options);

// How many contexts make_tls_context has built in this process; lets tests prove that requests reuse one.
[[nodiscard]] std::uint64_t tls_contexts_built_for_test() noexcept;

struct http_request {
  std::string method = "GET";
  std::string url;  // http:// or https://, host may be an IPv6 literal in brackets
  std::map<std::string, std::string> headers;
  std::optional<std::string> body;
  std::chrono::milliseconds timeout{2000};
  std::shared_ptr<const tls_context> tls;  // required for https (else the outcome is an error), ignored for http
  std::size_t max_body_bytes = std::size_t{1024} * 1024;  // the rest of a longer body is not read
};

struct http_response {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // at most max_body_bytes
  bool body_truncated = false;
  std::optional<wall_time> certificate_expiry;  // https: the peer certificate's notAfter
  bool reused_connection = false;
};

struct http_outcome {
  std::optional<http_response> response;  // set when a response was received
  std::string error;                      // set otherwise
  [[nodiscard]] bool ok() const noexcept { return response.has_value(); }
};

// One request on a fresh connection, closed afterwards.
[[nodiscard]] boost::asio::awaitable<http_outcome> send_http_request(boost::asio::any_io_executor executor,
                                                                     http_request request);

// A client that keeps one connection alive between requests (to the same scheme, host, port and TLS context) when the
// server allows it, and drops it on any failure or on reset(). A stale kept connection is retried once on a fresh one.
// One request at a time per client; reset() is thread-safe.
class http_client {
public:
  explicit http_client(const boost::asio::any_io_executor& executor);
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;
  ~http_client();

  [[nodiscard]] boost::asio::awaitable<http_outcome> send(http_request request);
  void reset();

  struct impl;

private:
  std::shared_ptr<impl> impl_;
};

// A WebSocket check on a fresh connection: opening handshake (with `headers`), a ping, optionally `send` as a text
// message, then reading until a pong has arrived and, when `expect` is set (or something was sent), a message
// containing `expect` (any message when `expect` is unset). The whole exchange is bounded by `timeout`.
struct websocket_request {
  std::string url;  // ws:// or wss://
  std::map<std::string, std::string> headers;
  std::optional<std::string> send;
  std::optional<std::string> expect;
  std::chrono::milliseconds timeout{2000};
  std::shared_ptr<const tls_context> tls;  // required for wss
};

struct websocket_outcome {
  bool ok = false;
  std::string error;                            // set when not ok: "handshake: ...", "timeout after N ms (no pong)"
  std::string reply;                            // the matching message, valid UTF-8, at most 200 bytes
  std::optional<wall_time> certificate_expiry;  // wss: the peer certificate's notAfter
};

[[nodiscard]] boost::asio::awaitable<websocket_outcome> check_websocket(boost::asio::any_io_executor executor,
                                                                        websocket_request request);

}  // namespace healthd::io
