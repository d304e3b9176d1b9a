#pragma once
// Heal action types by name ("type" in the config) -> factory. Thread-safe for concurrent `create` once filled.

#include "healthd/actions/action.hpp"
#include "healthd/config/config.hpp"

#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace healthd::actions {

using action_factory = std::function<std::unique_ptr<action>(const config::action_config&, const action_context&)>;

// A config that a factory cannot use (unknown type, options of another type, no target). Startup error.
class action_config_error : public std::invalid_argument {
public:
  using std::invalid_argument::invalid_argument;
};

class action_registry {
public:
  void add(std::string type, action_factory factory);
  [[nodiscard]] bool contains(const std::string& type) const { return factories_.contains(type); }
  [[nodiscard]] std::vector<std::string> types() const;
  // Throws action_config_error for an unknown type or options that do not match it.
  [[nodiscard]] std::unique_ptr<action> create(const config::action_config& config,
                                               const action_context& context) const;

  // reconnect, exec, http, sql, redis.
  [[nodiscard]] static const action_registry& builtin();

private:
  std::map<std::string, action_factory, std::less<>> factories_;
};

}  // namespace healthd::actions
