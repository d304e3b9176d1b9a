#include "healthd/actions/registry.hpp"

#include "action_support.hpp"

namespace healthd::actions {

void action_registry::add(std::string type, action_factory factory) {
  factories_.insert_or_assign(std::move(type), std::move(factory));
}

std::vector<std::string> action_registry::types() const {
  std::vector<std::string> out;
  for (const auto& [type, factory] : factories_)
    out.push_back(type);
  return out;
}

std::unique_ptr<action> action_registry::create(const config::action_config& config,
                                                const action_context& context) const {
  auto it = factories_.find(config.type);
  if (it == factories_.end()) throw action_config_error("unknown heal action type \"" + config.type + "\"");
  return it->second(config, context);
}

const action_registry& action_registry::builtin() {
  static const action_registry registry = [] {
    action_registry r;
    r.add("reconnect", detail::make_reconnect_action);
    r.add("exec", detail::make_exec_action);
    r.add("http", detail::make_http_action);
    r.add("sql", detail::make_sql_action);
    r.add("redis", detail::make_redis_action);
    return r;
  }();
  return registry;
}

}  // namespace healthd::actions
