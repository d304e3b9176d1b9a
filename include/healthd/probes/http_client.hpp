#pragma once
// An async HTTP/1.1 client over Beast (HTTPS through OpenSSL), for the http probe and the http heal action. Beast and
// OpenSSL stay in src/probes/http_client.cpp.
//
// Errors are values: `http_outcome::error` holds a short reason ("connect: Connection refused", "timeout after
// 2000 ms", "tls: certificate verify failed", "resolve: Host not found"), never an exception. The whole exchange
// (resolve, connect, TLS handshake, write, read) is bounded by `timeout`.

#include "healthd/core/clock.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace healthd::probes {

struct tls_options {
  std::optional<std::string> ca_file;  // PEM bundle to trust instead of the system store
  bool insecure_skip_verify = false;   // no chain or host-name check (the certificate's expiry is still reported)
};

struct http_request {
  std::string method = "GET";
  std::string url;  // http:// or https://, host may be an IPv6 literal in brackets
  std::map<std::string, std::string> headers;
  std::optional<std::string> body;
  std::chrono::milliseconds timeout{2000};
  tls_options tls;
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

// A client that keeps one connection alive between requests (to the same scheme, host and port) when the server
// allows it, and drops it on any failure or on reset(). A stale kept connection is retried once on a fresh one.
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

}  // namespace healthd::probes
