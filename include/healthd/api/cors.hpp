#pragma once
// CORS for the origins listed in `server.cors_origins` (exact match, e.g. "https://ops.example.com"; "*" allows
// every origin, which is then echoed back); any other origin gets no CORS headers at all, so a browser refuses it.
// Immutable after construction: thread-safe.

#include "healthd/api/http_message.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace healthd::api {

class cors_policy {
public:
  explicit cors_policy(std::vector<std::string> origins);

  [[nodiscard]] bool enabled() const noexcept { return !origins_.empty(); }
  [[nodiscard]] bool allows(std::string_view origin) const;

  // Adds Access-Control-Allow-Origin (and Expose-Headers) for an allowed `origin`, and `Vary: Origin` whenever
  // CORS is configured, since the answer depends on the Origin header.
  void decorate(const http_request& request, http_response& response) const;

  // A preflight (OPTIONS with Access-Control-Request-Method) from an allowed origin: 204 with the allowed methods
  // and headers. From any other origin: 204 with `Allow` only.
  [[nodiscard]] http_response preflight(const http_request& request, std::string_view allow) const;

private:
  std::vector<std::string> origins_;
};

}  // namespace healthd::api
