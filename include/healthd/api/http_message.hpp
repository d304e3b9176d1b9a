#pragma once
// The API's own HTTP request and response: what routing sees, free of Beast so that routing, auth, views and
// static files are unit-tested without sockets. Only src/api/server.cpp converts them to and from the wire.
// Plain values: not synchronized.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace healthd::api {

struct http_header {
  std::string name;
  std::string value;
};

struct http_request {
  std::string method;  // as sent: "GET"
  std::string target;  // origin form: "/api/v1/platform/healing-log?limit=5"
  std::vector<http_header> headers;
  std::string body;

  // The first header with that name, compared case-insensitively.
  [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const;
};

struct http_response {
  int status = 200;
  std::vector<http_header> headers;  // Content-Length and Connection are the server's
  // Shared so that a cached document is served without copying it; null means no body.
  std::shared_ptr<const std::string> body;
  bool omit_body = false;  // HEAD: Content-Length of the body, but no bytes
  bool close = false;      // close the connection after this response
  // Metrics label: the route template that answered ("/api/v1/platform/heal/{subsystem}"). Must point to static
  // storage; kept as a view so that counting a request allocates nothing.
  std::string_view route = "unmatched";

  [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const;
  // Replaces every header with that name (case-insensitively).
  void set_header(std::string_view name, std::string value);
  [[nodiscard]] std::size_t body_size() const noexcept { return body ? body->size() : 0; }
};

// The wire shape of every error: {"error":{"code":"not_found","message":"..."}}, JSON, Cache-Control: no-store.
[[nodiscard]] http_response error_response(int status, std::string_view code, std::string_view message);
// A JSON document with Content-Type: application/json and Cache-Control: no-store.
[[nodiscard]] http_response json_response(int status, std::shared_ptr<const std::string> body);

[[nodiscard]] bool iequals(std::string_view a, std::string_view b) noexcept;

// The request target split into its path (still percent-encoded) and its decoded query parameters (the first
// occurrence of a name wins). nullopt when the target is not in origin form or its query is not valid
// percent-encoding.
struct parsed_target {
  std::string path;
  std::map<std::string, std::string, std::less<>> query;
};
[[nodiscard]] std::optional<parsed_target> parse_target(std::string_view target);

// Decodes %XX escapes ('+' stays '+': paths and our query values never use form encoding); nullopt on a malformed
// escape or an encoded NUL.
[[nodiscard]] std::optional<std::string> percent_decode(std::string_view text);

}  // namespace healthd::api
