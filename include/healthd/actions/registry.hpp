#pragma once
// Heal action types by name ("type" in the config) -> factory. Thread-safe for concurrent `create` once filled.

#include "healthd/actions/action.hpp"
#include "healthd/config/config.hpp"
#include "healthd/core/factory_registry.hpp"

#include <memory>
#include <stdexcept>

namespace healthd::actions {

// A config that a factory cannot use (unknown type, options of another type, no target). Startup error.
class action_config_error : public std::invalid_argument {
public:
  using std::invalid_argument::invalid_argument;
};

class action_registry : public factory_registry<action, config::action_config, action_context, action_config_error> {
public:
  action_registry() : factory_registry("heal action type") {}
  // reconnect, exec, http, sql, redis.
  [[nodiscard]] static const action_registry& builtin();
};

using action_factory = action_registry::factory;

}  // namespace healthd::actions
