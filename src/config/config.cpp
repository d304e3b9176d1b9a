#include "healthd/config/config.hpp"

#include <algorithm>

namespace healthd::config {

namespace {

template <typename T>
const T* find_named(const std::vector<T>& items, std::string_view name) noexcept {
  auto it = std::find_if(items.begin(), items.end(), [&](const T& item) { return item.name == name; });
  return it == items.end() ? nullptr : &*it;
}

}  // namespace

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

std::string_view to_string(breaker_mode m) noexcept {
  switch (m) {
    case breaker_mode::consecutive: return "consecutive";
    case breaker_mode::rate: return "rate";
  }
  return "consecutive";
}

}  // namespace healthd::config
