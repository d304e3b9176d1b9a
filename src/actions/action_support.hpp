#pragma once
// Internal to src/actions: the factories behind the registry and what every action type shares.

#include "healthd/actions/action.hpp"
#include "healthd/actions/registry.hpp"
#include "healthd/io/text.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <variant>

namespace healthd::actions::detail {

std::unique_ptr<action> make_reconnect_action(const config::action_config& config, const action_context& context);
std::unique_ptr<action> make_exec_action(const config::action_config& config, const action_context& context);
std::unique_ptr<action> make_http_action(const config::action_config& config, const action_context& context);
std::unique_ptr<action> make_sql_action(const config::action_config& config, const action_context& context);
std::unique_ptr<action> make_redis_action(const config::action_config& config, const action_context& context);

// The options of `config` as type T, or action_config_error naming the type.
template <typename T>
const T& options_as(const config::action_config& config) {
  const auto* options = std::get_if<T>(&config.options);
  if (options == nullptr) throw action_config_error(config.type + " action: options of another action type");
  return *options;
}

[[nodiscard]] inline std::string timeout_message(int timeout_ms) {
  return io::timeout_message(std::chrono::milliseconds(timeout_ms));
}

}  // namespace healthd::actions::detail
