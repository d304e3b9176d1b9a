#pragma once
// URLs and HTTP status ranges, as the HTTP client, the http/websocket probes and the http heal action read them. Pure.

#include "healthd/config/config.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace healthd::io {

struct parsed_url {
  std::string scheme;  // http, https, ws, wss
  std::string host;    // without IPv6 brackets
  std::uint16_t port = 0;
  std::string target = "/";  // path and query
  [[nodiscard]] bool tls() const noexcept { return scheme == "https" || scheme == "wss"; }
  [[nodiscard]] std::string host_header() const;  // "host:port" (brackets for IPv6), port omitted when default
};

// nullopt for anything but http(s)/ws(s) URLs with a host and a valid port.
[[nodiscard]] std::optional<parsed_url> parse_url(std::string_view url);

[[nodiscard]] bool status_matches(int status, const std::vector<config::status_range>& expected) noexcept;
// "200-299", "200, 204", "200-299, 304".
[[nodiscard]] std::string describe_statuses(const std::vector<config::status_range>& expected);

}  // namespace healthd::io
