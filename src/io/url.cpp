#include "healthd/io/url.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace healthd::io {

std::string parsed_url::host_header() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  std::string out = ipv6 ? "[" + host + "]" : host;
  const bool default_port = (tls() && port == 443) || (!tls() && port == 80);
  if (!default_port) out += ":" + std::to_string(port);
  return out;
}

std::optional<parsed_url> parse_url(std::string_view url) {
  parsed_url out;
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  for (char c : url.substr(0, scheme_end))
    out.scheme.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (out.scheme != "http" && out.scheme != "https" && out.scheme != "ws" && out.scheme != "wss") return std::nullopt;
  auto rest = url.substr(scheme_end + 3);
  const auto authority_end = rest.find_first_of("/?#");
  auto authority = rest.substr(0, authority_end);
  if (authority.find('@') != std::string_view::npos) return std::nullopt;  // credentials belong in headers
  std::string_view port_text;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    out.host = std::string(authority.substr(1, close - 1));
    const auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      port_text = after.substr(1);
    }
  } else {
    const auto colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (out.host.empty()) return std::nullopt;
  if (port_text.empty()) {
    out.port = out.tls() ? 443 : 80;
  } else {
    unsigned port = 0;
    const auto* end = port_text.data() + port_text.size();
    const auto [ptr, ec] = std::from_chars(port_text.data(), end, port);
    if (ec != std::errc{} || ptr != end || port == 0 || port > 65535) return std::nullopt;
    out.port = static_cast<std::uint16_t>(port);
  }
  if (authority_end != std::string_view::npos) {
    auto target = rest.substr(authority_end);
    target = target.substr(0, target.find('#'));
    out.target = std::string(target);
    if (out.target.starts_with('?')) out.target.insert(0, "/");
    if (out.target.empty()) out.target = "/";
  }
  return out;
}

bool status_matches(int status, const std::vector<config::status_range>& expected) noexcept {
  return std::any_of(expected.begin(), expected.end(),
                     [status](const config::status_range& r) { return status >= r.low && status <= r.high; });
}

std::string describe_statuses(const std::vector<config::status_range>& expected) {
  std::string out;
  for (const auto& r : expected) {
    if (!out.empty()) out += ", ";
    out += std::to_string(r.low);
    if (r.high != r.low) out += "-" + std::to_string(r.high);
  }
  return out;
}

}  // namespace healthd::io
