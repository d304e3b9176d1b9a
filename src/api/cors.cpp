#include "healthd/api/cors.hpp"

#include <algorithm>

namespace healthd::api {

cors_policy::cors_policy(std::vector<std::string> origins) : origins_(std::move(origins)) {}

bool cors_policy::allows(std::string_view origin) const {
  return std::any_of(origins_.begin(), origins_.end(), [&](const std::string& o) { return o == "*" || o == origin; });
}

void cors_policy::decorate(const http_request& request, http_response& response) const {
  if (!enabled()) return;
  // Added to what the answer already varies on (a static file's Accept-Encoding), never in its place.
  const auto vary = response.header("Vary");
  response.set_header("Vary", vary ? std::string(*vary) + ", Origin" : std::string("Origin"));
  const auto origin = request.header("Origin");
  if (!origin || !allows(*origin)) return;
  response.set_header("Access-Control-Allow-Origin", std::string(*origin));
  response.set_header("Access-Control-Expose-Headers", "ETag, Retry-After, WWW-Authenticate");
}

http_response cors_policy::preflight(const http_request& request, std::string_view allow) const {
  http_response response;
  response.status = 204;
  response.set_header("Allow", std::string(allow));
  response.set_header("Cache-Control", "no-store");
  if (!enabled()) return response;
  response.set_header("Vary", "Origin");
  const auto origin = request.header("Origin");
  if (!origin || !allows(*origin) || !request.header("Access-Control-Request-Method")) return response;
  response.set_header("Access-Control-Allow-Origin", std::string(*origin));
  response.set_header("Access-Control-Allow-Methods", std::string(allow));
  response.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type, If-None-Match");
  response.set_header("Access-Control-Max-Age", "600");
  return response;
}

}  // namespace healthd::api
