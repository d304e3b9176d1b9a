#include "healthd/config/config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace healthd::config {

namespace {

template <typename T>
const T* find_named(const std::vector<T>& items, std::string_view name) noexcept {
  auto it = std::find_if(items.begin(), items.end(), [&](const T& item) { return item.name == name; });
  return it == items.end() ? nullptr : &*it;
}

}  // namespace

std::vector<loop_config> default_loops() {
  return {{"core", 30}, {"integrations", 60}, {"pipelines", 120}, {"optimization", 3600}};
}

std::optional<listen_address> parse_listen_address(std::string_view text) {
  std::string_view host;
  std::string_view port;
  if (text.starts_with('[')) {
    const auto close = text.find("]:");
    if (close == std::string_view::npos) return std::nullopt;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    // An IPv6 address needs brackets, or its last group would read as the port.
    if (host.find(':') != std::string_view::npos) return std::nullopt;
  }
  const auto bad_host_char = [](char c) {
    return std::isspace(static_cast<unsigned char>(c)) != 0 || c == '/' || c == '[' || c == ']' || c == '@';
  };
  if (host.empty() || std::any_of(host.begin(), host.end(), bad_host_char)) return std::nullopt;
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }))
    return std::nullopt;
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc{} || end != port.data() + port.size() || value < 1 || value > 65535) return std::nullopt;
  return listen_address{std::string(host), static_cast<std::uint16_t>(value)};
}

const subsystem_config* daemon_config::find_subsystem(std::string_view name) const noexcept {
  return find_named(subsystems, name);
}

const breaker_config* daemon_config::find_breaker(std::string_view name) const noexcept {
  return find_named(breakers, name);
}

const loop_config* daemon_config::find_loop(std::string_view name) const noexcept { return find_named(loops, name); }

std::string_view to_string(healing_mode m) noexcept {
  switch (m) {
    case healing_mode::automatic: return "auto";
    case healing_mode::dry_run: return "dry_run";
    case healing_mode::off: return "off";
  }
  return "auto";
}

std::optional<healing_mode> parse_healing_mode(std::string_view text) noexcept {
  if (text == "auto") return healing_mode::automatic;
  if (text == "dry_run") return healing_mode::dry_run;
  if (text == "off") return healing_mode::off;
  return std::nullopt;
}

std::string_view to_string(breaker_mode m) noexcept {
  switch (m) {
    case breaker_mode::consecutive: return "consecutive";
    case breaker_mode::rate: return "rate";
  }
  return "consecutive";
}

}  // namespace healthd::config
